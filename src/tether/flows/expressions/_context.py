"""What an expression can see while it runs: the workflow's state at one point of one run.

The run engine builds an :class:`ExpressionContext` per action (and per loop iteration, with
:meth:`ExpressionContext.in_loop`); expressions only read it. Clock, random numbers, GUIDs and the
callback URL are injectable so tests and replays are deterministic and the expression core stays pure.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Final

__all__ = ["NO_ITEM", "ExpressionContext", "NoItem"]


class NoItem:
    """Marks "not inside a loop", distinct from a loop item that is ``null``."""

    _instance: NoItem | None = None

    def __new__(cls) -> NoItem:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NO_ITEM"


NO_ITEM: Final = NoItem()


def _system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ExpressionContext:
    """Workflow state for expression functions.

    Attributes:
        parameters: workflow parameter values by name (``parameters('x')``).
        variables: current variable values (``variables('x')``).
        trigger: the trigger's result object: ``{"name", "inputs", "outputs", "startTime", ...}``;
            ``triggerOutputs()`` is its ``outputs`` and ``triggerBody()`` ``outputs.body``.
        actions: finished actions' result objects by name (``actions('x')``; ``outputs('x')`` and
            ``body('x')`` read ``outputs`` and ``outputs.body`` from them).
        results: a scope's (Scope, Foreach, Until) array of top-level action results (``result('x')``).
        current_action: the running action's own result, for ``action()`` (webhook unsubscribe, Until).
        item: the innermost loop's current item (``item()``), :data:`NO_ITEM` outside loops.
        items: the current item of each enclosing Foreach by name (``items('loop')``).
        iteration_indexes: the current index of each enclosing Until loop by name.
        workflow: ``workflow()`` metadata (``name``, ``id``, ``run``, ``tags``...).
        app_settings: Logic Apps Standard's app settings, for ``appSetting('name')``.
        callback_url: returns the URL for ``listCallbackUrl()``; ``None`` where there is none.
        clock: the current UTC time for ``utcNow()`` and friends. It may return a timestamp string
            instead of a datetime to keep .NET's 100-nanosecond precision.
        rng: the random source of ``rand()``.
        new_guid: the source of ``guid()``.
    """

    parameters: Mapping[str, Any] = field(default_factory=dict)
    variables: Mapping[str, Any] = field(default_factory=dict)
    trigger: Mapping[str, Any] | None = None
    actions: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    results: Mapping[str, list[Any]] = field(default_factory=dict)
    current_action: Mapping[str, Any] | None = None
    item: Any = NO_ITEM
    items: Mapping[str, Any] = field(default_factory=dict)
    iteration_indexes: Mapping[str, int] = field(default_factory=dict)
    workflow: Mapping[str, Any] = field(default_factory=dict)
    app_settings: Mapping[str, str] = field(default_factory=dict)
    callback_url: Callable[[], str] | None = None
    clock: Callable[[], datetime | str] = _system_clock
    rng: random.Random = field(default_factory=random.Random)
    new_guid: Callable[[], uuid.UUID] = uuid.uuid4

    def in_loop(self, loop: str, item: Any) -> ExpressionContext:
        """A copy for one Foreach iteration: ``item()`` and ``items(loop)`` return ``item``."""
        return replace(self, item=item, items={**self.items, loop: item})

    def in_until(self, loop: str, index: int) -> ExpressionContext:
        """A copy for one Until iteration: ``iterationIndexes(loop)`` returns ``index``."""
        return replace(self, iteration_indexes={**self.iteration_indexes, loop: index})
