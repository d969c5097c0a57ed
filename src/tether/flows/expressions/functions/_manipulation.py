"""JSON and XML manipulation: addProperty, setProperty, removeProperty, coalesce, xpath.

Objects are never changed in place: each function returns an updated copy, because the same object
may be an action's recorded output that other expressions (and the run history) still read.
"""

from __future__ import annotations

from typing import Any

from .._context import ExpressionContext
from .._values import XML_TYPE, content_bytes, envelope, is_envelope
from .._xml import xpath as run_xpath
from ._registry import FunctionError, expect_string, register, type_error


def _object(function: str, value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    raise type_error(function, 0, "an object", value)


def _existing_name(target: dict[str, Any], name: str) -> str | None:
    """The property of ``target`` that ``name`` designates: exact spelling first, then ignoring case,
    as property reads do (``setProperty(x, 'ID', 1)`` on ``{"id": 0}`` changes ``id``)."""
    if name in target:
        return name
    folded = name.lower()
    return next((key for key in target if key.lower() == folded), None)


@register("addProperty", 3)
def add_property(context: ExpressionContext, obj: Any, name: Any, value: Any) -> dict[str, Any]:
    target = _object("addProperty", obj)
    key = expect_string("addProperty", 1, name)
    existing = _existing_name(target, key)
    if existing is not None:
        raise FunctionError(
            f"The template language function 'addProperty' can't add the property '{key}' "
            f"because the property '{existing}' already exists: use setProperty() to change it.",
            argument=1,
        )
    return {**target, key: value}


@register("setProperty", 3)
def set_property(context: ExpressionContext, obj: Any, name: Any, value: Any) -> dict[str, Any]:
    target = _object("setProperty", obj)
    key = expect_string("setProperty", 1, name)
    existing = _existing_name(target, key)
    # The property keeps its place and its original spelling, as a JSON object's property does in .NET.
    return {**target, (key if existing is None else existing): value}


@register("removeProperty", 2)
def remove_property(context: ExpressionContext, obj: Any, name: Any) -> dict[str, Any]:
    target = _object("removeProperty", obj)
    existing = _existing_name(target, expect_string("removeProperty", 1, name))
    return {k: v for k, v in target.items() if k != existing}


@register("coalesce", 1, None)
def coalesce(context: ExpressionContext, *values: Any) -> Any:
    return next((value for value in values if value is not None), None)


@register("xpath", 2)
def xpath(context: ExpressionContext, xml: Any, expression: Any) -> Any:
    """Node sets are always arrays (as the runtime returns them, so ``xpath(...)[0]`` works); element
    nodes are XML content envelopes, text and attribute nodes strings, XPath scalars numbers, strings
    or booleans."""
    if is_envelope(xml):
        data = content_bytes(xml)
    elif isinstance(xml, str):
        data = xml.encode("utf-8")
    else:
        raise type_error("xpath", 0, "XML", xml)
    path = expect_string("xpath", 1, expression)
    try:
        result = run_xpath(data, path)
    except ValueError as exc:
        raise FunctionError(
            f"The template language function 'xpath' failed: {exc}.", argument=1 if "XPath" in str(exc) else 0
        ) from exc
    if isinstance(result, list):
        return [envelope(item, XML_TYPE) if isinstance(item, bytes) else item for item in result]
    return result
