"""Conditions of If and Until: an expression string, or the designer's object form.

The object form nests logical operators over comparisons, with arguments already evaluated:
``{"and": [{"equals": ["@body('x')", "ok"]}, {"not": {"contains": ["@y", "z"]}}]}``. Each key is
a workflow function name in any letter case, so every comparison the expression language has works
here as well, and an argument may itself be a function object (``{"equals": [{"length": ["@x"]}, 1]}``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tether.flows.engine._errors import ActionFailure
from tether.flows.expressions import FUNCTIONS, ExpressionContext, evaluate

__all__ = ["check_condition"]


def check_condition(condition: Any, context: ExpressionContext) -> bool:
    """Evaluate an If/Until ``expression``; a non-boolean verdict fails the action."""
    value = evaluate(condition, context)
    verdict = _object_form(value, context) if isinstance(value, Mapping) else value
    if isinstance(verdict, str) and verdict.lower() in ("true", "false"):
        verdict = verdict.lower() == "true"
    if not isinstance(verdict, bool):
        raise ActionFailure(
            "InvalidTemplate",
            f"The condition must evaluate to a boolean, not {type(verdict).__name__}: {verdict!r}",
        )
    return verdict


def _object_form(node: Mapping[str, Any], context: ExpressionContext) -> bool:
    verdict = _value(node, context)
    if isinstance(verdict, str) and verdict.lower() in ("true", "false"):
        return verdict.lower() == "true"
    if not isinstance(verdict, bool):
        operator = next(iter(node))
        raise ActionFailure(
            "InvalidTemplate",
            f"The condition '{operator}' must give a boolean, not {type(verdict).__name__}: {verdict!r}",
        )
    return verdict


def _value(node: Mapping[str, Any], context: ExpressionContext) -> Any:
    """What one function object gives: ``{"length": ["@x"]}`` is ``length(x)``, whatever its type."""
    if len(node) != 1:
        raise ActionFailure(
            "InvalidTemplate", f"A condition object has exactly one operator, not {list(node)}"
        )
    operator, arguments = next(iter(node.items()))
    name = operator.lower()
    if name in ("and", "or"):
        if not isinstance(arguments, list):
            raise ActionFailure("InvalidTemplate", f"'{operator}' takes a list of conditions")
        verdicts = (_verdict(a, context) for a in arguments)
        return all(verdicts) if name == "and" else any(verdicts)
    if name == "not":
        inner = arguments[0] if isinstance(arguments, list) and len(arguments) == 1 else arguments
        return not _verdict(inner, context)
    if operator not in FUNCTIONS:
        raise ActionFailure("InvalidTemplate", f"'{operator}' is not a condition operator")
    # Arguments may be function objects themselves ({"equals": [{"length": ["@x"]}, 1]}): evaluate
    # them as calls, never pass them on as literal objects (which would make the condition false).
    args = [_argument(a, context) for a in (arguments if isinstance(arguments, list) else [arguments])]
    function = FUNCTIONS[operator]
    problem = function.check_arity(len(args))
    if problem:
        raise ActionFailure("InvalidTemplate", problem)
    try:
        if function.lazy:
            return function(context, *[lambda a=a: a for a in args])
        return function(context, *args)
    except Exception as exc:  # the function library's own error type is private to it
        raise ActionFailure("InvalidTemplate", f"'{operator}': {getattr(exc, 'message', exc)}") from exc


def _is_function_object(value: Any) -> bool:
    if not isinstance(value, Mapping) or len(value) != 1:
        return False
    operator = next(iter(value))
    return isinstance(operator, str) and (operator.lower() in ("and", "or", "not") or operator in FUNCTIONS)


def _argument(value: Any, context: ExpressionContext) -> Any:
    return _value(value, context) if _is_function_object(value) else value


def _verdict(value: Any, context: ExpressionContext) -> bool:
    if isinstance(value, bool):
        return value
    return _object_form(_as_node(value), context)


def _as_node(value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ActionFailure("InvalidTemplate", f"Expected a condition object, got {value!r}")
    return value
