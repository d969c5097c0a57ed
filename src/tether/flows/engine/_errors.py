"""How an action or a run ends early, as exceptions the runner turns into statuses.

These never leave the engine: an :class:`ActionFailure` becomes a ``Failed`` action record (with
its code and message in the run history), :class:`RunTerminated` a run ended by a Terminate action.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ActionFailure", "ActionTimedOut", "RunCancelled", "RunTerminated"]


class ActionFailure(Exception):
    """The action failed; ``code`` and ``message`` go to its ``error``, ``outputs`` to history."""

    def __init__(self, code: str, message: str, *, outputs: Any = None, status: str = "Failed") -> None:
        super().__init__(message)
        self.code, self.message, self.outputs, self.status = code, message, outputs, status


class ActionTimedOut(ActionFailure):
    """The action ran past its ``limit.timeout``."""

    def __init__(self, message: str = "The action did not complete within its timeout.") -> None:
        super().__init__("ActionTimedOut", message, status="TimedOut")


class RunTerminated(Exception):
    """A Terminate action ended the run with ``status`` and ``error``."""

    def __init__(self, status: str, error: dict[str, Any] | None) -> None:
        super().__init__(status)
        self.status, self.error = status, error


class RunCancelled(Exception):
    """Someone cancelled the run; it stops before the next action."""
