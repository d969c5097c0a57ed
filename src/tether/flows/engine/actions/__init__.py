"""Action handlers, one module per family; importing this package registers them all in ACTIONS."""

from __future__ import annotations

from tether.flows.engine.actions import _connectors, _control, _data, _http, _loops, _variables  # noqa: F401
from tether.flows.engine.actions._registry import ACTIONS, ActionKind, Handler, action

__all__ = ["ACTIONS", "ActionKind", "Handler", "action"]
