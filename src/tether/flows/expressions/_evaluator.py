"""Evaluation: walk a parsed expression against an :class:`ExpressionContext`.

Errors raised here are :class:`ExpressionEvaluationError` pointing at the call, argument or property
access that failed, worded like Logic Apps' own messages so people can search for them.
"""

from __future__ import annotations

from typing import Any

from ._ast import Access, Call, Expression, Interpolation, Literal, Node
from ._context import ExpressionContext
from ._errors import ExpressionError, ExpressionEvaluationError
from ._parser import parse, parse_bare
from ._values import to_string, type_name
from .functions import FUNCTIONS
from .functions._registry import FunctionError

__all__ = ["evaluate", "evaluate_expression", "evaluate_parsed"]

# Bugs or odd inputs deep inside a function must still reach the user as one clear line, never as
# a traceback (DESIGN.md: "never a traceback for user input").
_UNEXPECTED = (ValueError, TypeError, ArithmeticError, KeyError, IndexError, OverflowError, UnicodeError)


# Marks "no such property", distinct from a property whose value is null.
_MISSING: Any = object()


class _Evaluator:
    def __init__(self, text: str, context: ExpressionContext) -> None:
        self.text, self.context = text, context

    def fail(self, message: str, offset: int) -> ExpressionEvaluationError:
        return ExpressionEvaluationError(message, expression=self.text, offset=offset)

    def node(self, node: Node) -> Any:
        if isinstance(node, Literal):
            return node.value
        if isinstance(node, Call):
            return self.call(node)
        return self.access(node)

    def call(self, node: Call) -> Any:
        function = FUNCTIONS[node.name]
        try:
            if function.lazy:
                thunks = [lambda arg=arg: self.node(arg) for arg in node.args]
                return function(self.context, *thunks)
            return function(self.context, *[self.node(arg) for arg in node.args])
        except FunctionError as exc:
            at = node.start
            if exc.argument is not None and exc.argument < len(node.args):
                at = _leftmost(node.args[exc.argument])
            raise self.fail(exc.message, at) from exc
        except _UNEXPECTED as exc:
            raise self.fail(f"function '{function.name}' failed: {exc}", node.start) from exc

    def access(self, node: Access) -> Any:
        target = self.node(node.target)
        key = self.node(node.key)
        at = node.key.start
        if target is None:
            if node.optional:
                return None
            raise self.fail(
                f"cannot select {_describe_key(key)} because the value is null: use '?' (as in "
                f"?['{key}']) to get null instead of an error",
                at,
            )
        if isinstance(target, dict):
            if not isinstance(key, str):
                raise self.fail(f"an object's property name must be a string, not {type_name(key)}", at)
            value = _property(target, key)
            if value is not _MISSING:
                return value
            if "/" in key:
                return self.walk(target, key, node.optional, at)
            if node.optional:
                return None
            raise self.missing(target, key, key, at)
        if isinstance(target, list):
            index = key
            if isinstance(key, str) and key.strip().lstrip("-").isdigit():
                index = int(key)
            if not isinstance(index, int) or isinstance(index, bool):
                raise self.fail(f"an array index must be an integer, not {type_name(key)} {key!r}", at)
            if 0 <= index < len(target):
                return target[index]
            if node.optional:
                return None
            raise self.fail(
                f"array index {index} is outside the bounds (0, {len(target) - 1}) of the array", at
            )
        if node.optional:
            return None
        raise self.fail(f"cannot select {_describe_key(key)} from a value of type {type_name(target)}", at)

    def walk(self, target: dict[str, Any], path: str, optional: bool, at: int) -> Any:
        """Power Automate's property path: ``x?['body/value']`` reads as ``x?['body']?['value']``.

        The designer writes these for connector outputs (``triggerOutputs()?['body/value']``,
        ``outputs('X')?['headers/Content-Type']``). Only called when no property is literally named
        ``path``; every segment is an object property, and ``?`` covers them all.
        """
        value: Any = target
        for segment in path.split("/"):
            if isinstance(value, dict):
                found = _property(value, segment)
                if found is not _MISSING:
                    value = found
                    continue
                if optional:
                    return None
                raise self.missing(value, segment, path, at)
            if optional:
                return None
            reason = "the value is null" if value is None else f"it is of type {type_name(value)}"
            raise self.fail(
                f"cannot select property '{segment}' of '{path}' because {reason}: use '?' (as in "
                f"?['{path}']) to get null instead of an error",
                at,
            )
        return value

    def missing(self, target: dict[str, Any], name: str, key: str, at: int) -> ExpressionEvaluationError:
        """Logic Apps' "property doesn't exist" error for ``name``, looked up as (part of) ``key``."""
        available = ", ".join(f"'{item}'" for item in list(target)[:20])
        where = "" if name == key else f" (in '{key}')"
        return self.fail(
            f"property '{name}'{where} doesn't exist; available properties are {available or 'none'} "
            f"(use ?['{key}'] to get null when it is missing)",
            at,
        )

    def body(self, body: Node | Interpolation | str) -> Any:
        if isinstance(body, str):
            return body
        if isinstance(body, Interpolation):
            return "".join(
                part if isinstance(part, str) else to_string(self.node(part)) for part in body.parts
            )
        return self.node(body)


def _leftmost(node: Node) -> int:
    """Where an argument begins (an access chain starts at its innermost target)."""
    while isinstance(node, Access):
        node = node.target
    return node.start


def _property(target: dict[str, Any], name: str) -> Any:
    """``target``'s property ``name``, exact match first, then ignoring case; :data:`_MISSING` if none."""
    if name in target:
        return target[name]
    folded = name.lower()
    for candidate, value in target.items():
        if candidate.lower() == folded:
            return value
    return _MISSING


def _describe_key(key: Any) -> str:
    return f"index {key}" if isinstance(key, int) else f"property '{key}'"


def evaluate_parsed(expression: Expression, context: ExpressionContext) -> Any:
    """Evaluate an already parsed :class:`Expression`."""
    return _Evaluator(expression.text, context).body(expression.body)


def evaluate_expression(text: str, context: ExpressionContext) -> Any:
    """Evaluate one expression, with or without its leading ``@``.

    ``"concat('a', 'b')"`` and ``"@concat('a', 'b')"`` both give ``"ab"``. A value that starts with
    ``@`` follows the template rules of :func:`evaluate` (``@{...}``, ``@@``), and so does text that
    isn't one bare expression but holds ``@{...}`` (``"Hello @{variables('name')}"``), as it would
    in a definition.
    """
    if text.startswith("@"):
        expression = parse(text)
    else:
        try:
            expression = parse_bare(text)
        except ExpressionError:
            if "@{" not in text:
                raise
            expression = parse(text)
    return evaluate_parsed(expression, context)


def evaluate(value: Any, context: ExpressionContext) -> Any:
    """Evaluate a JSON value from a workflow definition: the engine's "evaluate inputs" step.

    Strings holding expressions are evaluated (``"@x"`` keeps the result's type, ``"a @{x}"`` is a
    string); objects and arrays are walked recursively (property names are left as written); any
    other value is returned unchanged. The input is never modified.
    """
    if isinstance(value, str):
        expression = parse(value)
        return expression.body if expression.is_literal else evaluate_parsed(expression, context)
    if isinstance(value, dict):
        return {name: evaluate(item, context) for name, item in value.items()}
    if isinstance(value, list):
        return [evaluate(item, context) for item in value]
    return value
