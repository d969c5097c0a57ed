"""The read-only picture of a flow: trigger, actions in runAfter order, containers drawn nested.

Logic Apps' designer draws a flow as boxes joined by arrows; makers read a definition that way.
Tether draws it itself, with no browser library: :func:`flow_picture` turns a definition into a
small tree (:class:`FlowPicture`) — each scope's actions laid out in *rows* by runAfter depth, so an
action sits below everything it runs after and siblings that may run in parallel share a row — and
:func:`render_flow_picture` writes that tree as nested HTML boxes (CSS classes only: the portal's
Content-Security-Policy allows no inline style). Each box names the actions it runs after and, when
that is not plain success, on which statuses (the arrow's label in the designer).

The same picture, given the statuses of a run, is the top of the run page (Logic Apps' run view).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from html import escape
from typing import Any

from tether.flows import ActionSpec, TriggerSpec, load_flow

__all__ = [
    "FlowPicture",
    "PictureBranch",
    "PictureNode",
    "PictureTrigger",
    "flow_picture",
    "render_flow_picture",
]

# The designer's words for each kind of branch (the key is ActionSpec.branches').
_BRANCH_LABELS = {
    "If": {"actions": "True", "else/actions": "False"},
    "Foreach": {"actions": "For each item"},
    "Until": {"actions": "Repeat until the condition holds"},
    "Scope": {"actions": "Actions"},
}
_PLAIN_SUCCESS = ("Succeeded",)


@dataclass(frozen=True, slots=True)
class PictureTrigger:
    """The flow's trigger box: its name, type (and kind) and a one-line summary."""

    name: str
    type: str
    summary: str
    pointer: str


@dataclass(frozen=True, slots=True)
class PictureNode:
    """One action box.

    ``path`` is the action's place in the definition (``Scope/Inner``: no loop iteration), the key
    run statuses are given by; ``run_after`` maps each predecessor to the statuses it accepts.
    """

    name: str
    type: str
    path: str
    pointer: str
    run_after: Mapping[str, tuple[str, ...]]
    branches: tuple[PictureBranch, ...]


@dataclass(frozen=True, slots=True)
class PictureBranch:
    """A container's nested actions (a scope body, a condition's side, a switch case), in rows."""

    label: str
    rows: tuple[tuple[PictureNode, ...], ...]


@dataclass(frozen=True, slots=True)
class FlowPicture:
    """A whole flow: its trigger (if any) above the top-level rows."""

    trigger: PictureTrigger | None
    rows: tuple[tuple[PictureNode, ...], ...]

    def nodes(self) -> list[PictureNode]:
        """Every action box, depth first in drawing order."""
        found: list[PictureNode] = []

        def walk(rows: tuple[tuple[PictureNode, ...], ...]) -> None:
            for row in rows:
                for node in row:
                    found.append(node)
                    for branch in node.branches:
                        walk(branch.rows)

        walk(self.rows)
        return found


def flow_picture(definition: Any) -> FlowPicture:
    """The picture of ``definition`` (any shape :func:`tether.flows.load_flow` accepts).

    Raises:
        InputError: not a workflow definition (the editor shows the message where the picture goes).
    """
    flow = load_flow(definition)
    trigger = flow.trigger
    return FlowPicture(
        trigger=_trigger(trigger) if trigger is not None else None,
        rows=_rows(flow.actions, ""),
    )


def _trigger(spec: TriggerSpec) -> PictureTrigger:
    kind = f" ({spec.kind})" if spec.kind else ""
    return PictureTrigger(spec.name, spec.type + kind, _trigger_summary(spec), spec.pointer)


def _trigger_summary(spec: TriggerSpec) -> str:
    """What starts the flow, in words (the designer's card subtitle)."""
    recurrence = spec.raw.get("recurrence")
    if isinstance(recurrence, dict):
        return f"every {recurrence.get('interval', 1)} {str(recurrence.get('frequency', '')).lower()}"
    inputs = spec.raw.get("inputs")
    if spec.type == "Request":
        method = inputs.get("method") if isinstance(inputs, dict) else None
        return f"when an HTTP {method or 'request'} is received"
    if isinstance(inputs, dict):
        host = inputs.get("host")
        operation = inputs.get("operationId") or inputs.get("path")
        if isinstance(host, dict) and isinstance(host.get("connection"), dict):
            connection = host["connection"]
            reference = connection.get("referenceName") or connection.get("name", "")
            return f"{reference} {operation or ''}".strip()
        if operation:
            return str(operation)
    return ""


def _rows(actions: Mapping[str, ActionSpec], prefix: str) -> tuple[tuple[PictureNode, ...], ...]:
    """Lay siblings out by runAfter depth: an action goes one row below its deepest predecessor."""
    depth: dict[str, int] = {}

    def level(name: str, seen: frozenset[str]) -> int:
        if name in depth:
            return depth[name]
        if name in seen:  # a cycle (validation reports it): draw the action where the loop closes
            return 0
        targets = [t for t in actions[name].run_after if t in actions]
        value = 1 + max((level(t, seen | {name}) for t in targets), default=-1)
        depth[name] = value
        return value

    for name in actions:
        level(name, frozenset())
    rows: list[list[PictureNode]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for name, spec in actions.items():  # definition order within a row
        rows[depth[name]].append(_node(spec, prefix))
    return tuple(tuple(row) for row in rows)


def _node(spec: ActionSpec, prefix: str) -> PictureNode:
    path = prefix + spec.name
    labels = _BRANCH_LABELS.get(spec.type, {})
    branches = []
    for key, nested in spec.branches.items():
        if key.startswith("cases/"):
            label = f"Case {key.removeprefix('cases/')}"
        elif key == "default":
            label = "Default"
        else:
            label = labels.get(key, key)
        branches.append(PictureBranch(label, _rows(nested, path + "/")))
    if spec.type == "If" and "else/actions" not in spec.branches:
        branches.append(PictureBranch("False", ()))  # the designer always draws both sides
    run_after = {
        target: tuple(s.title().replace("Timedout", "TimedOut") for s in statuses) or _PLAIN_SUCCESS
        for target, statuses in spec.run_after.items()
    }
    return PictureNode(spec.name, spec.type, path, spec.pointer, run_after, tuple(branches))


def render_flow_picture(
    picture: FlowPicture,
    *,
    statuses: Mapping[str, str] | None = None,
    link_for: Callable[[str], str | None] | None = None,
) -> str:
    """The picture as HTML (every value escaped): nested ``<ol>`` rows of boxes.

    Args:
        statuses: a run's status per action path (``Scope/Inner``); each box then carries it as a
            class and a word, as the run view colours its boxes.
        link_for: when given, each action's name links to ``link_for(path)`` (unless None): the
            run page links each box to the action's inputs and outputs further down.
    """
    parts = ['<div class="flow-picture">']
    if picture.trigger is not None:
        trigger = picture.trigger
        parts.append(
            '<div class="fp-node fp-trigger">'
            f'<span class="fp-kind">Trigger · {escape(trigger.type)}</span>'
            f'<strong class="fp-name">{escape(trigger.name)}</strong>'
            + (f'<span class="fp-summary">{escape(trigger.summary)}</span>' if trigger.summary else "")
            + "</div>"
        )
        if picture.rows:
            parts.append('<div class="fp-arrow" aria-hidden="true">↓</div>')
    if not picture.rows:
        parts.append('<p class="fp-empty">No actions yet: add one under "actions" in the definition.</p>')
    parts.append(_render_rows(picture.rows, statuses or {}, link_for))
    parts.append("</div>")
    return "".join(parts)


def _render_rows(
    rows: tuple[tuple[PictureNode, ...], ...],
    statuses: Mapping[str, str],
    link_for: Callable[[str], str | None] | None,
) -> str:
    if not rows:
        return '<p class="fp-empty">(no actions)</p>'
    out = ['<ol class="fp-rows">']
    for index, row in enumerate(rows):
        if index:
            out.append('<li class="fp-arrow" aria-hidden="true">↓</li>')
        out.append('<li class="fp-row"><ul class="fp-row-items">')
        for node in row:
            out.append(f"<li>{_render_node(node, statuses, link_for)}</li>")
        out.append("</ul></li>")
    out.append("</ol>")
    return "".join(out)


def _render_node(
    node: PictureNode, statuses: Mapping[str, str], link_for: Callable[[str], str | None] | None
) -> str:
    status = statuses.get(node.path)
    classes = "fp-node" + (f" fp-status-{escape(status.lower())}" if status else "")
    name = escape(node.name)
    href = link_for(node.path) if link_for is not None else None
    if href is not None:
        name = f'<a href="{escape(href)}">{name}</a>'
    out = [
        f'<div class="{classes}" data-path="{escape(node.path)}">',
        f'<span class="fp-kind">{escape(node.type)}</span>',
        f'<strong class="fp-name">{name}</strong>',
    ]
    if status:
        out.append(f'<span class="fp-status">{escape(status)}</span>')
    if node.run_after:
        after = []
        for target, accepted in node.run_after.items():
            when = "" if accepted == _PLAIN_SUCCESS else f" ({escape(', '.join(accepted))})"
            after.append(f"{escape(target)}{when}")
        out.append(f'<span class="fp-after">after {"; ".join(after)}</span>')
    for branch in node.branches:
        out.append(
            '<section class="fp-branch">'
            f'<p class="fp-branch-label">{escape(branch.label)}</p>'
            f"{_render_rows(branch.rows, statuses, link_for)}"
            "</section>"
        )
    out.append("</div>")
    return "".join(out)
