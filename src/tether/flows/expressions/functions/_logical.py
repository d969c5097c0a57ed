"""Logical comparison functions: and, or, not, if, equals, greater, less...

``if``, ``and`` and ``or`` evaluate lazily (left to right, stopping early), so
``if(empty(x), 0, first(x).id)`` never touches ``first(x)`` when ``x`` is empty; flows written
for Logic Apps keep working and some that would fail there work here. Null compares as the empty
string, as the docs state for logical functions.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from .._context import ExpressionContext
from .._values import deep_equals, is_number, type_name
from ._registry import FunctionError, register, type_error


def _boolean(function: str, index: int, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise type_error(function, index, "a boolean", value)


@register("and", 1, None, lazy=True)
def and_(context: ExpressionContext, *thunks: Callable[[], Any]) -> bool:
    return all(_boolean("and", index, thunk()) for index, thunk in enumerate(thunks))


@register("or", 1, None, lazy=True)
def or_(context: ExpressionContext, *thunks: Callable[[], Any]) -> bool:
    return any(_boolean("or", index, thunk()) for index, thunk in enumerate(thunks))


@register("not", 1)
def not_(context: ExpressionContext, value: Any) -> bool:
    return not _boolean("not", 0, value)


@register("if", 3, lazy=True)
def if_(
    context: ExpressionContext, condition: Callable[[], Any], yes: Callable[[], Any], no: Callable[[], Any]
) -> Any:
    return yes() if _boolean("if", 0, condition()) else no()


@register("equals", 2)
def equals(context: ExpressionContext, left: Any, right: Any) -> bool:
    return deep_equals(left, right)


def _order(function: str, left: Any, right: Any) -> int:
    left = "" if left is None else left
    right = "" if right is None else right
    if is_number(left) and is_number(right):
        if isinstance(left, Decimal) or isinstance(right, Decimal):
            left, right = Decimal(str(left)), Decimal(str(right))
        return int((left > right) - (left < right))
    if isinstance(left, str) and isinstance(right, str):
        return (left > right) - (left < right)
    for index, value in enumerate((left, right)):
        if not (is_number(value) or isinstance(value, str)):
            raise type_error(function, index, "an integer, a decimal number or a string", value)
    raise FunctionError(
        f"The template language function '{function}' expects two parameters of matching types; got "
        f"'{type_name(left)}' and '{type_name(right)}'."
    )


@register("greater", 2)
def greater(context: ExpressionContext, left: Any, right: Any) -> bool:
    return _order("greater", left, right) > 0


@register("greaterOrEquals", 2)
def greater_or_equals(context: ExpressionContext, left: Any, right: Any) -> bool:
    return _order("greaterOrEquals", left, right) >= 0


@register("less", 2)
def less(context: ExpressionContext, left: Any, right: Any) -> bool:
    return _order("less", left, right) < 0


@register("lessOrEquals", 2)
def less_or_equals(context: ExpressionContext, left: Any, right: Any) -> bool:
    return _order("lessOrEquals", left, right) <= 0
