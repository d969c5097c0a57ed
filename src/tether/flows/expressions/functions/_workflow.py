"""Workflow functions: parameters, variables, trigger*, actions/body/outputs, item/items, result, workflow...

They read the :class:`ExpressionContext` the run engine passes in. Action names are looked up as
written, then with spaces as underscores (the designer's ``Get user`` is ``Get_user`` in code), then
ignoring case, so hand-written and exported definitions both resolve.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from .._context import NO_ITEM, ExpressionContext
from .._values import content_bytes, is_envelope
from ._registry import FunctionError, expect_int, expect_string, register


def _lookup(mapping: Mapping[str, Any], name: str) -> tuple[bool, Any]:
    for candidate in (name, name.replace(" ", "_")):
        if candidate in mapping:
            return True, mapping[candidate]
    folded = name.replace(" ", "_").lower()
    for key, value in mapping.items():
        if key.lower() == folded:
            return True, value
    return False, None


def _get(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, Mapping) else None


@register("parameters", 1)
def parameters(context: ExpressionContext, name: Any) -> Any:
    key = expect_string("parameters", 0, name)
    found, value = _lookup(context.parameters, key)
    if not found:
        # Environment-level values stand in for parameters the definition doesn't declare, as a
        # Logic Apps Standard parameters.json entry reads an app setting.
        found, value = _lookup(context.app_settings, key)
    if not found:
        raise FunctionError(
            f"The workflow parameter '{key}' is not found; declare it in the definition's 'parameters' "
            "or set an environment variable of that name (tether env var set).",
            argument=0,
        )
    return value


@register("variables", 1)
def variables(context: ExpressionContext, name: Any) -> Any:
    key = expect_string("variables", 0, name)
    found, value = _lookup(context.variables, key)
    if not found:
        raise FunctionError(
            f"The variable '{key}' isn't initialized: add an 'Initialize variable' action for "
            "it before this one.",
            argument=0,
        )
    return value


def _trigger(function: str) -> Mapping[str, Any]:
    raise FunctionError(f"The template language function '{function}' has no trigger to read here.")


@register("trigger", 0)
def trigger(context: ExpressionContext) -> Any:
    return context.trigger if context.trigger is not None else _trigger("trigger")


@register("triggerOutputs", 0)
def trigger_outputs(context: ExpressionContext) -> Any:
    return _get(trigger(context), "outputs")


@register("triggerBody", 0)
def trigger_body(context: ExpressionContext) -> Any:
    return _get(trigger_outputs(context), "body")


def _action(function: str, context: ExpressionContext, name: Any) -> Any:
    key = expect_string(function, 0, name)
    found, value = _lookup(context.actions, key)
    if not found:
        raise FunctionError(
            f"The action '{key}' referenced by '{function}' has not run or doesn't exist; "
            "check the name and the runAfter of this action.",
            argument=0,
        )
    return value


@register("actions", 1)
def actions(context: ExpressionContext, name: Any) -> Any:
    return _action("actions", context, name)


@register("action", 0)
def action(context: ExpressionContext) -> Any:
    if context.current_action is None:
        raise FunctionError(
            "The template language function 'action' can only be used where an action's own "
            "result exists (a webhook's unsubscribe, trackedProperties or an Until condition)."
        )
    return context.current_action


@register("outputs", 1)
def outputs(context: ExpressionContext, name: Any) -> Any:
    return _get(_action("outputs", context, name), "outputs")


@register("body", 1)
def body(context: ExpressionContext, name: Any) -> Any:
    return _get(_get(_action("body", context, name), "outputs"), "body")


@register("actionOutputs", 1)
def action_outputs(context: ExpressionContext, name: Any) -> Any:
    return _get(_action("actionOutputs", context, name), "outputs")


@register("actionBody", 1)
def action_body(context: ExpressionContext, name: Any) -> Any:
    return _get(_get(_action("actionBody", context, name), "outputs"), "body")


def _form_values(content: Any, key: str) -> list[Any]:
    if isinstance(content, Mapping) and isinstance(content.get("$formdata"), list):
        return [entry.get("value") for entry in content["$formdata"] if _get(entry, "key") == key]
    if is_envelope(content):
        content = content_bytes(content).decode("utf-8", errors="replace")
    if isinstance(content, str):
        return [value for name, value in parse_qsl(content, keep_blank_values=True) if name == key]
    if isinstance(content, Mapping) and key in content:
        value = content[key]
        return list(value) if isinstance(value, list) else [value]
    return []


def _single(function: str, values: list[Any], key: str) -> Any:
    if len(values) > 1:
        raise FunctionError(
            f"The template language function '{function}' found {len(values)} values for the "
            f"key '{key}': use the MultiValues variant to get them all."
        )
    return values[0] if values else None


@register("formDataValue", 2)
def form_data_value(context: ExpressionContext, name: Any, key: Any) -> Any:
    field = expect_string("formDataValue", 1, key)
    return _single("formDataValue", _form_values(body(context, name), field), field)


@register("formDataMultiValues", 2)
def form_data_multi_values(context: ExpressionContext, name: Any, key: Any) -> list[Any]:
    return _form_values(body(context, name), expect_string("formDataMultiValues", 1, key))


@register("triggerFormDataValue", 1)
def trigger_form_data_value(context: ExpressionContext, key: Any) -> Any:
    field = expect_string("triggerFormDataValue", 0, key)
    return _single("triggerFormDataValue", _form_values(trigger_body(context), field), field)


@register("triggerFormDataMultiValues", 1)
def trigger_form_data_multi_values(context: ExpressionContext, key: Any) -> list[Any]:
    return _form_values(trigger_body(context), expect_string("triggerFormDataMultiValues", 0, key))


def _part(function: str, content: Any, index: Any, argument: int) -> Any:
    position = expect_int(function, argument, index)
    parts = _get(content, "$multipart")
    if not isinstance(parts, list):
        raise FunctionError(f"The template language function '{function}' expects a multipart body.")
    if not 0 <= position < len(parts):
        raise FunctionError(
            f"The multipart body has {len(parts)} parts; index {position} is out of range.", argument=argument
        )
    return _get(parts[position], "body")


@register("multipartBody", 2)
def multipart_body(context: ExpressionContext, name: Any, index: Any) -> Any:
    return _part("multipartBody", body(context, name), index, 1)


@register("triggerMultipartBody", 1)
def trigger_multipart_body(context: ExpressionContext, index: Any) -> Any:
    return _part("triggerMultipartBody", trigger_body(context), index, 0)


@register("result", 1)
def result(context: ExpressionContext, scope: Any) -> Any:
    key = expect_string("result", 0, scope)
    found, value = _lookup(context.results, key)
    if not found:
        raise FunctionError(
            f"The scope '{key}' has no results here: result() reads a Scope, Foreach or Until "
            "action that has finished.",
            argument=0,
        )
    return value


@register("item", 0)
def item(context: ExpressionContext) -> Any:
    if context.item is NO_ITEM:
        raise FunctionError(
            "The template language function 'item' can only be used inside a Foreach loop or "
            "an array action (Select, Filter array)."
        )
    return context.item


@register("items", 1)
def items(context: ExpressionContext, loop: Any) -> Any:
    key = expect_string("items", 0, loop)
    found, value = _lookup(context.items, key)
    if not found:
        raise FunctionError(
            f"The template language function 'items' must be used inside the Foreach loop '{key}'.",
            argument=0,
        )
    return value


@register("iterationIndexes", 1)
def iteration_indexes(context: ExpressionContext, loop: Any) -> Any:
    key = expect_string("iterationIndexes", 0, loop)
    found, value = _lookup(context.iteration_indexes, key)
    if not found:
        raise FunctionError(
            f"The template language function 'iterationIndexes' must be used inside the Until loop '{key}'.",
            argument=0,
        )
    return value


@register("workflow", 0)
def workflow(context: ExpressionContext) -> Any:
    return dict(context.workflow)


@register("appSetting", 1)
def app_setting(context: ExpressionContext, name: Any) -> Any:
    """Logic Apps Standard reads app settings (connection strings, endpoints) this way."""
    key = expect_string("appSetting", 0, name)
    found, value = _lookup(context.app_settings, key)
    if not found:
        raise FunctionError(f"The app setting '{key}' is not defined.", argument=0)
    return value


@register("listCallbackUrl", 0)
def list_callback_url(context: ExpressionContext) -> str:
    if context.callback_url is None:
        raise FunctionError(
            "The template language function 'listCallbackUrl' works only in HttpWebhook and "
            "ApiConnectionWebhook triggers and actions."
        )
    return context.callback_url()
