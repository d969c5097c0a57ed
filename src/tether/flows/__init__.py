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
from tether.flows._request import match_relative_path, relative_path

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
    "match_relative_path",
    "relative_path",
    "validate_flow",
]
