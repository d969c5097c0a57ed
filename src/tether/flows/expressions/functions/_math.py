"""Math functions: add, sub, mul, div, mod, min, max, rand, range.

Integer op Integer stays an Integer (``div`` truncates toward zero, ``mod`` takes the dividend's
sign, as in .NET); a Float operand makes the result a Float; Decimal operands (from ``decimal()``)
keep decimal precision. Integer results beyond 64 bits are an overflow error, as in Logic Apps.
"""

from __future__ import annotations

import math
from decimal import Decimal, DivisionByZero, InvalidOperation
from typing import Any

from .._context import ExpressionContext
from .._values import check_int64
from ._registry import FunctionError, expect_int, expect_number, register

Number = int | float | Decimal


def _operands(function: str, left: Any, right: Any) -> tuple[Number, Number]:
    a, b = expect_number(function, 0, left), expect_number(function, 1, right)
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        if isinstance(a, float) or isinstance(b, float):
            return float(a), float(b)
        return Decimal(a), Decimal(b)
    return a, b


def _result(function: str, value: Number) -> Number:
    if not isinstance(value, int):
        return value
    try:
        return check_int64(value)
    except OverflowError as exc:
        raise FunctionError(f"The template language function '{function}' overflowed: {exc}.") from exc


@register("add", 2)
def add(context: ExpressionContext, left: Any, right: Any) -> Number:
    a, b = _operands("add", left, right)
    return _result("add", a + b)  # type: ignore[operator]


@register("sub", 2)
def sub(context: ExpressionContext, left: Any, right: Any) -> Number:
    a, b = _operands("sub", left, right)
    return _result("sub", a - b)  # type: ignore[operator]


@register("mul", 2)
def mul(context: ExpressionContext, left: Any, right: Any) -> Number:
    a, b = _operands("mul", left, right)
    return _result("mul", a * b)  # type: ignore[operator]


def _zero_check(function: str, divisor: Number) -> None:
    if divisor == 0:
        raise FunctionError(f"The template language function '{function}' can't divide by zero.", argument=1)


@register("div", 2)
def div(context: ExpressionContext, left: Any, right: Any) -> Number:
    a, b = _operands("div", left, right)
    _zero_check("div", b)
    if isinstance(a, int) and isinstance(b, int):
        quotient = abs(a) // abs(b)
        return _result("div", quotient if (a >= 0) == (b >= 0) else -quotient)
    try:
        return a / b  # type: ignore[operator]
    except (DivisionByZero, InvalidOperation) as exc:
        raise FunctionError("The template language function 'div' can't divide by zero.", argument=1) from exc


@register("mod", 2)
def mod(context: ExpressionContext, left: Any, right: Any) -> Number:
    a, b = _operands("mod", left, right)
    _zero_check("mod", b)
    if isinstance(a, int) and isinstance(b, int):
        remainder = abs(a) % abs(b)
        return remainder if a >= 0 else -remainder
    if isinstance(a, Decimal):
        return a % Decimal(b)  # _operands made both Decimal; Decimal's % already takes the dividend's sign
    return math.fmod(a, b)


def _numbers(function: str, values: tuple[Any, ...]) -> list[Number]:
    if len(values) == 1 and isinstance(values[0], list):
        values = tuple(values[0])
        if not values:
            raise FunctionError(
                f"The template language function '{function}' expects a non-empty array.", argument=0
            )
    return [
        expect_number(function, min(index, 0 if len(values) == 1 else index), value)
        for index, value in enumerate(values)
    ]


@register("max", 1, None)
def max_(context: ExpressionContext, *values: Any) -> Number:
    return max(_numbers("max", values))


@register("min", 1, None)
def min_(context: ExpressionContext, *values: Any) -> Number:
    return min(_numbers("min", values))


@register("rand", 2)
def rand(context: ExpressionContext, low: Any, high: Any) -> int:
    start, stop = expect_int("rand", 0, low), expect_int("rand", 1, high)
    if start > stop:
        raise FunctionError(
            "The template language function 'rand' expects its minimum value to be less "
            "than or equal to its maximum value.",
            argument=0,
        )
    # .NET's Random.Next(min, max): inclusive minimum, exclusive maximum, min when they are equal.
    return start if start == stop else context.rng.randrange(start, stop)


@register("range", 2)
def range_(context: ExpressionContext, start: Any, count: Any) -> list[int]:
    first, total = expect_int("range", 0, start), expect_int("range", 1, count)
    if not 0 <= total <= 100_000:
        raise FunctionError(
            "The template language function 'range' expects a count between 0 and 100,000.", argument=1
        )
    if first + total > 2_147_483_647:
        raise FunctionError(
            "The template language function 'range' expects the start plus the count not to "
            "exceed 2,147,483,647.",
            argument=1,
        )
    return list(range(first, first + total))
