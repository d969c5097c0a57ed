"""The run page's model: a run's action history as Logic Apps' run view shows it.

:func:`tether.services.get_run` answers with a flat list of action *instances* in execution order
(``Loop#3/Send`` is iteration 3 of ``Send``), each already masked by the services — this module
only rearranges them and never opens a value. :func:`run_view` nests them as the definition does
(a scope's actions under it, a loop's under each iteration, so iterations can be browsed one at a
time), computes durations, finds the action whose error explains a failed run, and gives the
flow picture one status per action of the definition.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tether.services import ActionInfo, RunDetail

__all__ = ["ActionView", "IterationView", "RunView", "anchor_of", "definition_path", "run_view"]

_LOOPS = frozenset({"Foreach", "Until"})
# Worst first: the picture colours a loop's inner action by its worst iteration.
_SEVERITY = ("Failed", "TimedOut", "Cancelled", "Running", "Succeeded", "Skipped")


@dataclass(frozen=True, slots=True)
class IterationView:
    """One loop iteration: its index (from 0, as the engine counts), worst status, its actions."""

    index: int
    status: str
    actions: tuple[ActionView, ...]


@dataclass(frozen=True, slots=True)
class ActionView:
    """One action instance with what the run page shows about it.

    ``children`` holds a scope's or branch's actions; ``iterations`` a loop's, one entry per
    iteration. Inputs, outputs and error are the services' masked values, shown as they are.
    """

    path: str
    name: str
    type: str
    status: str
    start: datetime | None
    end: datetime | None
    duration_ms: int | None
    code: str | None
    inputs: Any
    outputs: Any
    error: dict[str, Any] | None
    retries: tuple[dict[str, Any], ...]
    children: tuple[ActionView, ...]
    iterations: tuple[IterationView, ...]

    @property
    def anchor(self) -> str:
        """An HTML id for this instance (``#`` and ``/`` are not welcome in URLs' fragments)."""
        return anchor_of(self.path)

    def iteration(self, index: int) -> IterationView | None:
        """Iteration ``index`` of a loop, or None when there is no such iteration."""
        return next((it for it in self.iterations if it.index == index), None)


@dataclass(frozen=True, slots=True)
class RunView:
    """A run ready to draw: top-level actions (nested), the failing action, statuses for the picture."""

    detail: RunDetail
    actions: tuple[ActionView, ...]
    failed: ActionView | None
    statuses: Mapping[str, str]
    duration_ms: int | None

    def link_for(self, path: str) -> str | None:
        """The fragment of the first instance of the definition's action ``path`` (the picture's links)."""
        for action in self.detail.actions:
            if definition_path(action.path) == path:
                return "#" + anchor_of(action.path)
        return None

    def find(self, path: str) -> ActionView | None:
        """The action instance at ``path`` (``Loop#2/Send``), anywhere in the tree."""
        return _find(self.actions, path)


def anchor_of(instance_path: str) -> str:
    """An HTML id for an action instance (``#`` and ``/`` are not welcome in URLs' fragments)."""
    return "action-" + instance_path.replace("/", "--").replace("#", "-i")


def definition_path(instance_path: str) -> str:
    """The action's place in the definition: ``Loop#3/Send`` → ``Loop/Send``."""
    return "/".join(part.split("#", 1)[0] for part in instance_path.split("/"))


def run_view(detail: RunDetail) -> RunView:
    """Nest ``detail``'s action instances and summarise them for the run page."""
    by_parent: dict[str, list[ActionInfo]] = {}
    for action in detail.actions:
        parent = action.path.rsplit("/", 1)[0] if "/" in action.path else ""
        by_parent.setdefault(parent, []).append(action)
    top = tuple(_build(action, by_parent) for action in by_parent.get("", []))
    statuses: dict[str, str] = {}
    for action in detail.actions:
        key = definition_path(action.path)
        statuses[key] = _worst(statuses.get(key), action.status)
    run = detail.run
    return RunView(
        detail=detail,
        actions=top,
        failed=_failed(top),
        statuses=statuses,
        duration_ms=_millis(run.started_at, run.ended_at),
    )


def _build(action: ActionInfo, by_parent: Mapping[str, list[ActionInfo]]) -> ActionView:
    children: tuple[ActionView, ...] = ()
    iterations: tuple[IterationView, ...] = ()
    if action.type in _LOOPS:
        iterations = _iterations(action.path, by_parent)
    else:
        children = tuple(_build(child, by_parent) for child in by_parent.get(action.path, []))
    start, end = _time(action.start), _time(action.end)
    return ActionView(
        path=action.path,
        name=action.name,
        type=action.type,
        status=action.status,
        start=start,
        end=end,
        duration_ms=_millis(start, end),
        code=action.code,
        inputs=action.inputs,
        outputs=action.outputs,
        error=action.error,
        retries=tuple(action.retries),
        children=children,
        iterations=iterations,
    )


def _iterations(loop_path: str, by_parent: Mapping[str, list[ActionInfo]]) -> tuple[IterationView, ...]:
    """A loop's iterations: every parent ``loop_path#N``, in index order."""
    marker = loop_path + "#"
    found: list[IterationView] = []
    for parent, members in by_parent.items():
        suffix = parent.removeprefix(marker)
        if parent.startswith(marker) and suffix.isdigit():
            actions = tuple(_build(member, by_parent) for member in members)
            status = "Succeeded"
            for action in actions:
                status = _worst(status, action.status)
            found.append(IterationView(int(suffix), status, actions))
    return tuple(sorted(found, key=lambda it: it.index))


def _failed(actions: Sequence[ActionView]) -> ActionView | None:
    """The action whose error explains the failure: the deepest failed instance, first in order.

    A scope or loop fails *because* an action inside failed; that inner error is the one to read.
    """
    for action in actions:
        if action.status not in {"Failed", "TimedOut"}:
            continue
        nested = [a for it in action.iterations for a in it.actions] + list(action.children)
        return _failed(nested) or action
    return None


def _find(actions: Sequence[ActionView], path: str) -> ActionView | None:
    for action in actions:
        if action.path == path:
            return action
        nested = [a for it in action.iterations for a in it.actions] + list(action.children)
        if path.startswith(action.path) and (found := _find(nested, path)):
            return found
    return None


def _worst(current: str | None, status: str) -> str:
    if current is None:
        return status
    rank = {name: index for index, name in enumerate(_SEVERITY)}
    return current if rank.get(current, 0) <= rank.get(status, 0) else status


def _time(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _millis(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return max(0, round((end - start).total_seconds() * 1000))
