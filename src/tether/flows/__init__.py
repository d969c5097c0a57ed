"""Flows: workflow definitions (Logic Apps workflow definition language), expressions and the run engine."""

from tether.flows._definition import (
    RUN_AFTER_STATUSES,
    SUPPORTED_ACTIONS,
    SUPPORTED_TRIGGERS,
    ActionSpec,
    FlowDefinition,
    FlowIssue,
    OperationResolver,
    TriggerSpec,
    ensure_valid,
    load_flow,
    validate_flow,
)

__all__ = [
    "RUN_AFTER_STATUSES",
    "SUPPORTED_ACTIONS",
    "SUPPORTED_TRIGGERS",
    "ActionSpec",
    "FlowDefinition",
    "FlowIssue",
    "OperationResolver",
    "TriggerSpec",
    "ensure_valid",
    "load_flow",
    "validate_flow",
]
