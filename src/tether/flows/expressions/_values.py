"""How expression values behave: type names, string conversion, equality and content envelopes.

Values are plain JSON-like Python objects (``None``, ``bool``, ``int``, ``float``, ``Decimal``, ``str``,
``list``, ``dict``) so a run's history can store them as they are. Binary and XML content travel as
Logic Apps' *content envelope* ``{"$content-type": ..., "$content": <base64>}``, which is JSON too.
The conversions follow the .NET runtime behind Logic Apps: ``string(true)`` is ``"True"``, floats print
without a trailing ``.0``, objects serialize compactly.
"""

from __future__ import annotations

import base64
import json
import math
import re
from decimal import Decimal
from typing import Any

__all__ = [
    "BINARY_TYPE",
    "XML_TYPE",
    "check_int64",
    "content_bytes",
    "deep_equals",
    "envelope",
    "format_float",
    "is_envelope",
    "is_number",
    "to_json_text",
    "to_string",
    "type_name",
]

BINARY_TYPE = "application/octet-stream"
XML_TYPE = "application/xml;charset=utf-8"
_INT64 = (-(2**63), 2**63 - 1)


def type_name(value: Any) -> str:
    """The type name Logic Apps uses in its messages ("String", "Integer", "Null"...)."""
    if value is None:
        return "Null"
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, float):
        return "Float"
    if isinstance(value, Decimal):
        return "Decimal"
    if isinstance(value, str):
        return "String"
    if isinstance(value, list):
        return "Array"
    return "Object"


def is_number(value: Any) -> bool:
    """True for Integer, Float and Decimal values (``bool`` is not a number here)."""
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def check_int64(value: int) -> int:
    """``value`` if it fits .NET's ``long``; else ``OverflowError`` (Logic Apps fails the expression).

    Logic Apps integers are 64-bit: ``add(9223372036854775807, 1)`` is an arithmetic-overflow error
    there, so a flow ported from it must not silently carry on with a rounded Float or a wider integer.
    """
    if _INT64[0] <= value <= _INT64[1]:
        return value
    raise OverflowError(f"the integer {value} is outside the 64-bit range (-2^63 to 2^63-1)")


def envelope(data: bytes, content_type: str = BINARY_TYPE) -> dict[str, str]:
    """Wrap bytes in the content envelope Logic Apps uses for binary and XML values."""
    return {"$content-type": content_type, "$content": base64.b64encode(data).decode("ascii")}


def is_envelope(value: Any) -> bool:
    """True for a ``{"$content-type", "$content"}`` object."""
    return isinstance(value, dict) and "$content" in value and "$content-type" in value


def content_bytes(value: dict[str, Any]) -> bytes:
    """The bytes inside a content envelope."""
    return base64.b64decode(str(value["$content"]))


def format_float(value: float) -> str:
    """Format a double as .NET Core does: shortest round-trip digits, ``E`` notation past 1e15."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0" if math.copysign(1, value) < 0 else "0"
    sign_bit, digit_tuple, exponent = Decimal(repr(value)).as_tuple()
    assert isinstance(exponent, int)  # finite: NaN and infinities were handled above
    raw = "".join(map(str, digit_tuple))
    digits = raw.rstrip("0")
    exponent += len(raw) - len(digits)
    sign = "-" if sign_bit else ""
    # 'point' is where the decimal point falls, counted in digits from the first significant one.
    point = exponent + len(digits)
    sci = point - 1
    if sci >= 15 or sci < -4:
        rest = digits[1:]
        exp_sign = "+" if sci >= 0 else "-"
        return f"{sign}{digits[0]}{'.' + rest if rest else ''}E{exp_sign}{abs(sci):02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return f"{sign}{digits}{'0' * (point - len(digits))}"
    return f"{sign}{digits[:point]}.{digits[point:]}"


# Decimals are written with their scale (Newtonsoft writes the .NET decimal 5.0000m as 5.0000), which
# json.dumps can't do for a number; they travel as marked strings and the marks are swapped back.
_DECIMAL_MARK = "\u0001tether-decimal:"
_DECIMAL_IN_JSON = re.compile(r'"\\u0001tether-decimal:([-+0-9.Ee]+)"')


def _mark_decimals(value: Any) -> Any:
    if isinstance(value, Decimal):
        return _DECIMAL_MARK + (format(value, "f") if value.is_finite() else "0")
    if isinstance(value, dict):
        return {name: _mark_decimals(item) for name, item in value.items()}
    if isinstance(value, list):
        return [_mark_decimals(item) for item in value]
    return value


def to_json_text(value: Any, *, indent: int | None = None) -> str:
    """Serialize as Newtonsoft does: compactly (``Formatting.None``) unless ``indent`` is given,
    non-ASCII kept as is, Decimals with their written scale."""
    separators = (",", ":") if indent is None else (",", ": ")
    text = json.dumps(_mark_decimals(value), separators=separators, ensure_ascii=False, indent=indent)
    return _DECIMAL_IN_JSON.sub(r"\1", text) if "tether-decimal:" in text else text


def to_string(value: Any) -> str:
    """Convert a value to text as ``string()`` and ``@{...}`` interpolation do.

    Null becomes the empty string, booleans ``True``/``False`` (.NET's spelling), numbers use the
    invariant culture, content envelopes give their decoded text and objects/arrays compact JSON.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_float(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if is_envelope(value):
        return content_bytes(value).decode("utf-8", errors="replace")
    return to_json_text(value)


def _comparable(value: Any) -> Any:
    # Logical functions compare null as the empty string (documented under "Logical comparison").
    return "" if value is None else value


def deep_equals(left: Any, right: Any) -> bool:
    """``equals()``: deep, order-sensitive for arrays, order-free for objects, numeric across types.

    ``equals(true, 1)`` is true (the documented .NET conversion) and null equals the empty string.
    """
    left, right = _comparable(left), _comparable(right)
    if isinstance(left, bool) or isinstance(right, bool):
        if isinstance(left, bool) and isinstance(right, bool):
            return left is right
        other, flag = (right, left) if isinstance(left, bool) else (left, right)
        return is_number(other) and other == int(flag)
    if is_number(left) and is_number(right):
        if isinstance(left, Decimal) or isinstance(right, Decimal):
            try:
                return Decimal(str(left)) == Decimal(str(right))
            except ArithmeticError:
                return False
        return bool(left == right)
    if isinstance(left, str) and isinstance(right, str):
        return left == right
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(deep_equals(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(deep_equals(left[k], right[k]) for k in left)
    return False
