"""String functions: concat, indexOf, replace, split, substring, formatNumber, guid...

Search functions that the docs call case-insensitive (``indexOf``, ``lastIndexOf``, ``startsWith``,
``endsWith``) are; ``contains`` and ``replace`` are case-sensitive, as documented. Strings are
required (a null is a type error, as in Logic Apps), except ``concat``, which treats null as empty.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .._context import ExpressionContext
from .._dotnet._casing import to_lower_invariant, to_upper_invariant
from .._dotnet._number_format import NumberFormatError, format_number
from .._dotnet._number_parse import parse_float, parse_integer
from .._values import format_float, to_string
from ._registry import FunctionError, expect_int, expect_number, expect_string, register

_MAX_STRING = 104_857_600  # Logic Apps' limit on concat() and join() results


def _fold(text: str) -> str:
    # Lower-casing that keeps every index where it was (a few characters change length otherwise).
    lowered = text.lower()
    return lowered if len(lowered) == len(text) else "".join(c.lower()[:1] or c for c in text)


@register("concat", 1, None)
def concat(context: ExpressionContext, *values: Any) -> str:
    result = "".join(to_string(value) for value in values)
    if len(result) > _MAX_STRING:
        raise FunctionError(f"The result of 'concat' is longer than {_MAX_STRING:,} characters.")
    return result


@register("endsWith", 2)
def ends_with(context: ExpressionContext, text: Any, search: Any) -> bool:
    return _fold(expect_string("endsWith", 0, text)).endswith(_fold(expect_string("endsWith", 1, search)))


@register("startsWith", 2)
def starts_with(context: ExpressionContext, text: Any, search: Any) -> bool:
    return _fold(expect_string("startsWith", 0, text)).startswith(
        _fold(expect_string("startsWith", 1, search))
    )


@register("indexOf", 2)
def index_of(context: ExpressionContext, text: Any, search: Any) -> int:
    return _fold(expect_string("indexOf", 0, text)).find(_fold(expect_string("indexOf", 1, search)))


@register("lastIndexOf", 2)
def last_index_of(context: ExpressionContext, text: Any, search: Any) -> int:
    text = _fold(expect_string("lastIndexOf", 0, text))
    search = _fold(expect_string("lastIndexOf", 1, search))
    if not search:
        # Documented: an empty search string gives length - 1 (0 for an empty text).
        return max(len(text) - 1, 0)
    return int(text.rfind(search))


@register("nthIndexOf", 3)
def nth_index_of(context: ExpressionContext, text: Any, search: Any, occurrence: Any) -> int:
    text = expect_string("nthIndexOf", 0, text)
    search = expect_string("nthIndexOf", 1, search)
    n = expect_int("nthIndexOf", 2, occurrence)
    if n == 0:
        raise FunctionError(
            "The template language function 'nthIndexOf' expects a non-zero occurrence.", argument=2
        )
    if not search:
        return -1
    found = -1
    if n > 0:
        position = 0
        for _ in range(n):
            found = text.find(search, position)
            if found == -1:
                return -1
            position = found + 1
        return found
    end = len(text)
    for _ in range(-n):
        found = text.rfind(search, 0, end)
        if found == -1:
            return -1
        end = found + len(search) - 1
    return found


@register("replace", 3)
def replace(context: ExpressionContext, text: Any, old: Any, new: Any) -> str:
    old = expect_string("replace", 1, old)
    if not old:
        raise FunctionError(
            "The template language function 'replace' expects a non-empty string to replace.", argument=1
        )
    return expect_string("replace", 0, text).replace(old, to_string(new))


@register("slice", 2, 3)
def slice_(context: ExpressionContext, text: Any, start: Any, end: Any = None) -> str:
    text = expect_string("slice", 0, text)
    begin = expect_int("slice", 1, start)
    stop = len(text) if end is None else expect_int("slice", 2, end)
    return text[slice(begin, stop)] if not (begin >= len(text)) else ""


@register("split", 2)
def split(context: ExpressionContext, text: Any, delimiter: Any) -> list[str]:
    text = expect_string("split", 0, text)
    delimiter = to_string(delimiter)
    return [text] if not delimiter else text.split(delimiter)


@register("substring", 2, 3)
def substring(context: ExpressionContext, text: Any, start: Any, length: Any = None) -> str:
    text = expect_string("substring", 0, text)
    begin = expect_int("substring", 1, start)
    if begin < 0 or begin > len(text):
        raise FunctionError(
            f"The template language function 'substring' parameter 'startIndex' is out of range: it must be "
            f"between 0 and {len(text)}, the length of the string; it is {begin}.",
            argument=1,
        )
    if length is None:
        return str(text[begin:])
    count = expect_int("substring", 2, length)
    if count < 0 or begin + count > len(text):
        raise FunctionError(
            f"The template language function 'substring' parameters are out of range: 'startIndex' ({begin}) "
            f"plus 'length' ({count}) must not be greater than the length of the string ({len(text)}).",
            argument=2,
        )
    return str(text[begin : begin + count])


@register("toLower", 1)
def to_lower(context: ExpressionContext, text: Any) -> str:
    return to_lower_invariant(expect_string("toLower", 0, text))


@register("toUpper", 1)
def to_upper(context: ExpressionContext, text: Any) -> str:
    return to_upper_invariant(expect_string("toUpper", 0, text))


@register("trim", 1)
def trim(context: ExpressionContext, text: Any) -> str:
    return expect_string("trim", 0, text).strip()


@register("guid", 0, 1)
def guid(context: ExpressionContext, fmt: Any = "D") -> str:
    value = context.new_guid()
    spec = expect_string("guid", 0, fmt) or "D"
    text = str(value)
    if spec in ("D", "d"):
        return text
    if spec in ("N", "n"):
        return value.hex
    if spec in ("B", "b"):
        return "{" + text + "}"
    if spec in ("P", "p"):
        return "(" + text + ")"
    if spec in ("X", "x"):
        h = value.hex
        tail = ",".join(f"0x{h[i : i + 2]}" for i in range(16, 32, 2))
        return f"{{0x{h[:8]},0x{h[8:12]},0x{h[12:16]},{{{tail}}}}}"
    raise FunctionError(f"The format '{spec}' for 'guid' isn't valid: use N, D, B, P or X.", argument=0)


@register("isInt", 1)
def is_int(context: ExpressionContext, text: Any) -> bool:
    return isinstance(text, str) and parse_integer(text) is not None


@register("isFloat", 1, 2)
def is_float(context: ExpressionContext, text: Any, locale: Any = None) -> bool:
    if not isinstance(text, str):
        return False
    try:
        return (
            parse_float(text, None if locale is None else expect_string("isFloat", 1, locale), lenient=False)
            is not None
        )
    except LookupError as exc:
        raise FunctionError(str(exc), argument=1) from exc


@register("formatNumber", 2, 3)
def format_number_(context: ExpressionContext, number: Any, fmt: Any, locale: Any = None) -> str:
    value = expect_number("formatNumber", 0, number)
    spec = expect_string("formatNumber", 1, fmt)
    shortest = format_float(value) if isinstance(value, float) else str(value)
    if isinstance(value, Decimal):
        shortest = format(value, "f")
    try:
        return format_number(
            value,
            spec,
            None if locale is None else expect_string("formatNumber", 2, locale),
            shortest=shortest,
        )
    except NumberFormatError as exc:
        raise FunctionError(f"The format '{spec}' isn't valid: {exc}.", argument=1) from exc
    except LookupError as exc:
        raise FunctionError(f"{exc}.", argument=2) from exc
