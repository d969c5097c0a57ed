"""Paths into JSON bodies, as body-shaping policies write them.

``@body().gifts``, ``body()`` (one connector drops the ``@``), ``@item()['id']`` and
``@triggerBody().data`` name a place to read or write; sub-paths (``version``,
``['@odata.type']``, ``a.b``; ``null`` or empty for "the parent itself") extend one.
Writing creates missing objects on the way, as a connector author would expect.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tether.runtime.policies._errors import InvalidPolicy
from tether.runtime.policies._expressions import JSON_ROOTS, Scope, compile_expression, parse_steps, walk

__all__ = ["JsonPath", "compile_path", "compile_subpath"]


@dataclass(frozen=True)
class JsonPath:
    """A root (``body``, ``item`` or ``triggerBody``) and member steps."""

    root: str
    steps: tuple[str | int, ...] = ()

    def joined(self, steps: tuple[str | int, ...]) -> JsonPath:
        """This path extended by ``steps``."""
        return JsonPath(self.root, self.steps + steps)

    def get(self, scope: Scope) -> Any:
        """The value here, or None when some member on the way is missing."""
        return walk(scope.root(self.root), self.steps)

    def set(self, scope: Scope, value: Any) -> None:
        """Put ``value`` here, creating objects on the way; a root path replaces the root."""
        if not self.steps:
            _set_root(scope, self.root, value)
            return
        node = scope.root(self.root)
        if node is None:
            node = {}
            _set_root(scope, self.root, node)
        for step, following in zip(self.steps, self.steps[1:], strict=False):
            child = _child(node, step)
            if child is None:
                child = [] if isinstance(following, int) else {}
                _put(node, step, child)
            node = child
        _put(node, self.steps[-1], value)

    def delete(self, scope: Scope) -> None:
        """Remove the member here, if it exists."""
        if not self.steps:
            _set_root(scope, self.root, None)
            return
        parent = walk(scope.root(self.root), self.steps[:-1])
        last = self.steps[-1]
        if isinstance(parent, dict) and isinstance(last, str):
            parent.pop(last, None)
        elif isinstance(parent, list) and isinstance(last, int) and -len(parent) <= last < len(parent):
            del parent[last]


def compile_path(text: Any) -> JsonPath:
    """Compile ``@body().a`` style text; raises ``InvalidPolicy`` for anything else."""
    if not isinstance(text, str):
        raise InvalidPolicy(f"{text!r} is not a path such as @body().name")
    expression = compile_expression(text)
    if expression.function not in JSON_ROOTS:
        raise InvalidPolicy(f"{text!r} must start with @body(), @item() or @triggerBody()")
    return JsonPath(expression.function, expression.steps)


def compile_subpath(text: Any) -> tuple[str | int, ...]:
    """Compile a sub-path (``name``, ``a.b``, ``['@odata.id']``); ``null`` or empty is none."""
    if text is None:
        return ()
    text = str(text).strip()
    if text in ("", "null"):
        return ()
    steps, end = parse_steps(text if text.startswith("[") else "." + text, 0)
    consumed = end if text.startswith("[") else end - 1
    if consumed != len(text):
        # Names with characters a dotted path cannot hold are still one member name.
        return (text,)
    return steps


def _child(node: Any, step: str | int) -> Any:
    if isinstance(node, dict) and isinstance(step, str):
        return node.get(step)
    if isinstance(node, list) and isinstance(step, int) and -len(node) <= step < len(node):
        return node[step]
    return None


def _put(node: Any, step: str | int, value: Any) -> None:
    if isinstance(node, dict) and isinstance(step, str):
        node[step] = value
    elif isinstance(node, list) and isinstance(step, int):
        if step == len(node):
            node.append(value)
        elif -len(node) <= step < len(node):
            node[step] = value
    # Writing into a string or number is not possible; such a path is skipped, like a missing one.


def _set_root(scope: Scope, root: str, value: Any) -> None:
    if root == "body":
        scope.body = value
    elif root == "item":
        scope.item = value
    else:
        scope.trigger_body = value
