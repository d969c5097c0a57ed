"""Flows: workflow definitions (Logic Apps workflow definition language), expressions and the run engine.

The names below load on first use (PEP 562): ``tether expression eval`` imports
``tether.flows.expressions``, and with it this package, but needs none of the definition model
(which pulls in the connector definition layer, ~0.5 s of CPU on a small machine).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
_HOME = {name: "tether.flows._request" for name in ("match_relative_path", "relative_path")}


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'tether.flows' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOME.get(name, "tether.flows._definition")), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
