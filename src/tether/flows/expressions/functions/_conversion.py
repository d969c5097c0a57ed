"""Conversion functions: string, int, float, decimal, bool, json, xml, base64, data URIs, URI components.

Binary results (``binary``, ``base64ToBinary``, ``dataUriToBinary``...) are content envelopes
``{"$content-type", "$content"}`` as in Logic Apps, so they survive JSON storage and can be sent as an
HTTP body with the right content type.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote, unquote, unquote_to_bytes

from .._context import ExpressionContext
from .._dotnet._number_parse import parse_float
from .._values import (
    BINARY_TYPE,
    XML_TYPE,
    check_int64,
    content_bytes,
    envelope,
    is_envelope,
    is_number,
    to_json_text,
    to_string,
)
from .._xml import json_to_xml, parse_xml, xml_to_json
from ._registry import FunctionError, alias, expect_string, register, type_error

_DATA_URI = re.compile(r"data:(?P<type>[^,]*?)(?P<b64>;base64)?,(?P<data>.*)", re.IGNORECASE | re.DOTALL)


def _bytes(value: Any) -> bytes:
    if is_envelope(value):
        return content_bytes(value)
    return to_string(value).encode("utf-8")


def _b64decode(function: str, text: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise FunctionError(
            f"The template language function '{function}' was invoked with a parameter that "
            "is not valid base64.",
            argument=0,
        ) from exc


@register("array", 1)
def array(context: ExpressionContext, value: Any) -> list[Any]:
    return [value]


@register("createArray", 0, None)
def create_array(context: ExpressionContext, *values: Any) -> list[Any]:
    return list(values)


@register("string", 1)
def string(context: ExpressionContext, value: Any) -> str:
    return to_string(value)


@register("bool", 1)
def bool_(context: ExpressionContext, value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if is_number(value):
        return bool(value != 0)
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise FunctionError(
        f"The template language function 'bool' can't convert the value {to_json_text(value)} "
        "to a boolean: use true, false, 'true', 'false' or a number.",
        argument=0,
    )


@register("int", 1)
def int_(context: ExpressionContext, value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return _int64(value)
    if isinstance(value, float | Decimal):
        if not math.isfinite(value):
            raise _not_int64(value)
        return _int64(round(value))  # Convert.ToInt64 rounds half to even, like Python's round()
    if isinstance(value, str):
        # long.Parse(text, NumberStyles.Any, InvariantCulture): signs, spaces, group separators and a
        # decimal point are accepted ('1.0', '  +1,000 '), but a fractional part must be zero.
        parsed = parse_float(value)
        if parsed is None or parsed != parsed.to_integral_value():
            raise _not_int64(value)
        return _int64(int(parsed), value)
    raise type_error("int", 0, "a string or a number", value)


def _not_int64(value: Any) -> FunctionError:
    return FunctionError(
        f"The template language function 'int' was invoked with a parameter that is not "
        f"valid. The value '{to_string(value)}' cannot be converted to the target type 'Int64'.",
        argument=0,
    )


def _int64(value: int, written: Any = None) -> int:
    try:
        return check_int64(value)
    except OverflowError:
        raise _not_int64(value if written is None else written) from None


@register("float", 1, 2)
def float_(context: ExpressionContext, value: Any, locale: Any = None) -> float:
    if is_number(value):
        return float(value)
    text = expect_string("float", 0, value)
    try:
        parsed = parse_float(text, None if locale is None else expect_string("float", 1, locale))
    except LookupError as exc:
        raise FunctionError(f"{exc}.", argument=1) from exc
    if parsed is None or abs(float(parsed)) == float("inf"):
        raise FunctionError(
            f"The template language function 'float' was invoked with a parameter that is not "
            f"valid. The value '{text}' cannot be converted to the target type 'Double'.",
            argument=0,
        )
    return float(parsed)


@register("decimal", 1)
def decimal(context: ExpressionContext, value: Any) -> Decimal:
    if is_number(value):
        return Decimal(str(value))
    text = expect_string("decimal", 0, value)
    try:
        return Decimal(text.strip())
    except InvalidOperation:
        parsed = parse_float(text, lenient=False)
        if parsed is None:
            raise FunctionError(
                f"The template language function 'decimal' was invoked with a parameter that is "
                f"not valid. The value '{text}' cannot be converted to a decimal number.",
                argument=0,
            ) from None
        return parsed


@register("json", 1)
def json_(context: ExpressionContext, value: Any) -> Any:
    if value is None:
        return {}  # documented: "If the string is null, the function returns an empty object."
    if is_envelope(value):
        data = content_bytes(value)
        if "xml" in str(value["$content-type"]).lower():
            try:
                return xml_to_json(data)
            except ValueError as exc:
                raise FunctionError(str(exc), argument=0) from exc
        value = data.decode("utf-8", errors="replace")
    if isinstance(value, dict | list):
        return value
    text = to_string(value)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FunctionError(
            f"The template language function 'json' parameter is not valid. The provided value "
            f"'{text[:200]}' cannot be parsed: {exc.msg} (line {exc.lineno}, column {exc.colno}).",
            argument=0,
        ) from exc


@register("xml", 1)
def xml(context: ExpressionContext, value: Any) -> dict[str, str]:
    try:
        if is_envelope(value):
            data = content_bytes(value)
            parse_xml(data)
            return envelope(data, XML_TYPE)
        if isinstance(value, dict):
            return envelope(json_to_xml(value), XML_TYPE)
        text = expect_string("xml", 0, value)
        data = text.encode("utf-8")
        parse_xml(data)
        return envelope(data, XML_TYPE)
    except ValueError as exc:
        raise FunctionError(
            f"The template language function 'xml' parameter is not valid: {exc}.", argument=0
        ) from exc


@register("base64", 1)
def base64_(context: ExpressionContext, value: Any) -> str:
    if is_envelope(value):
        return str(value["$content"])
    return base64.b64encode(_bytes(value)).decode("ascii")


@register("base64ToString", 1)
def base64_to_string(context: ExpressionContext, value: Any) -> str:
    text = str(value["$content"]) if is_envelope(value) else expect_string("base64ToString", 0, value)
    return _b64decode("base64ToString", text).decode("utf-8", errors="replace")


alias("decodeBase64", "base64ToString")


@register("base64ToBinary", 1)
def base64_to_binary(context: ExpressionContext, value: Any) -> dict[str, str]:
    return envelope(_b64decode("base64ToBinary", expect_string("base64ToBinary", 0, value)))


@register("binary", 1)
def binary(context: ExpressionContext, value: Any) -> dict[str, str]:
    return envelope(_bytes(value), BINARY_TYPE)


@register("dataUri", 1)
def data_uri(context: ExpressionContext, value: Any) -> str:
    if is_envelope(value):
        return f"data:{value['$content-type']};base64,{value['$content']}"
    if isinstance(value, dict | list | bool):
        # JSON values are written as JSON (true, not True) and labelled so, as Logic Apps does.
        data = to_json_text(value).encode("utf-8")
        return "data:application/json;base64," + base64.b64encode(data).decode("ascii")
    return "data:text/plain;charset=utf-8;base64," + base64.b64encode(_bytes(value)).decode("ascii")


def _read_data_uri(function: str, value: Any) -> tuple[str, bytes]:
    text = expect_string(function, 0, value)
    # Only leading space is dropped: trailing spaces of a plain (not base64) data URI are its content.
    match = _DATA_URI.fullmatch(text.lstrip())
    if not match:
        raise FunctionError(
            f"The template language function '{function}' expects a data URI such as "
            "'data:text/plain;charset=utf-8;base64,aGVsbG8='.",
            argument=0,
        )
    media = match["type"] or "text/plain;charset=US-ASCII"
    data = _b64decode(function, match["data"]) if match["b64"] else unquote_to_bytes(match["data"])
    return media, data


@register("dataUriToBinary", 1)
def data_uri_to_binary(context: ExpressionContext, value: Any) -> dict[str, str]:
    media, data = _read_data_uri("dataUriToBinary", value)
    return envelope(data, media)


alias("decodeDataUri", "dataUriToBinary")


@register("dataUriToString", 1)
def data_uri_to_string(context: ExpressionContext, value: Any) -> str:
    media, data = _read_data_uri("dataUriToString", value)
    charset = re.search(r"charset=([\w-]+)", media, re.IGNORECASE)
    try:
        return data.decode(charset.group(1) if charset else "utf-8", errors="replace")
    except LookupError:
        return data.decode("utf-8", errors="replace")


@register("uriComponent", 1)
def uri_component(context: ExpressionContext, value: Any) -> str:
    # Uri.EscapeDataString: everything but the RFC 3986 unreserved characters is escaped.
    return quote(to_string(value), safe="")


alias("encodeUriComponent", "uriComponent")


@register("uriComponentToString", 1)
def uri_component_to_string(context: ExpressionContext, value: Any) -> str:
    return unquote(expect_string("uriComponentToString", 0, value))


alias("decodeUriComponent", "uriComponentToString")


@register("uriComponentToBinary", 1)
def uri_component_to_binary(context: ExpressionContext, value: Any) -> dict[str, str]:
    return envelope(unquote_to_bytes(expect_string("uriComponentToBinary", 0, value)))
