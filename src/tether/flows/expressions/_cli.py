"""Build a context from plain JSON and evaluate one expression: what ``tether expression eval`` runs.

The same builder serves tests and tools that describe workflow state as a JSON document::

    {"parameters": {...}, "variables": {...}, "trigger": {"outputs": {...}} or "triggerOutputs": {...},
     "actions": {"Get_user": {"outputs": {...}}}, "results": {...}, "item": ..., "items": {"loop": ...},
     "iterationIndexes": {"loop": 0}, "workflow": {...}, "appSettings": {...},
     "utcNow": "2018-03-01T00:00:00Z", "callbackUrl": "https://...", "seed": 1}
"""

from __future__ import annotations

import random
import uuid
from typing import Any

from ._context import NO_ITEM, ExpressionContext
from ._errors import ExpressionError
from ._evaluator import evaluate_expression
from ._values import to_json_text

__all__ = ["context_from_json", "evaluate_for_cli", "render_json"]

_KNOWN_KEYS = {
    "parameters", "variables", "trigger", "triggerOutputs", "actions", "results", "item", "items",
    "iterationIndexes", "workflow", "appSettings", "utcNow", "callbackUrl", "seed",
}  # fmt: skip


def context_from_json(data: dict[str, Any] | None) -> ExpressionContext:
    """An :class:`ExpressionContext` from a JSON object (see the module docstring for the keys).

    ``utcNow`` fixes the clock and ``seed`` makes ``rand()`` and ``guid()`` repeatable.

    Raises:
        ExpressionError: an unknown key or a value of the wrong shape, so a typo is not silently ignored.
    """
    data = data or {}
    if not isinstance(data, dict):
        raise ExpressionError("the context must be a JSON object", expression=str(data), offset=0)
    unknown = sorted(set(data) - _KNOWN_KEYS)
    if unknown:
        raise ExpressionError(
            f"unknown context key(s) {', '.join(unknown)}; use {', '.join(sorted(_KNOWN_KEYS))}",
            expression=", ".join(unknown),
            offset=0,
        )
    trigger = data.get("trigger")
    if trigger is None and "triggerOutputs" in data:
        trigger = {"outputs": data["triggerOutputs"]}
    options: dict[str, Any] = {}
    if "utcNow" in data:
        fixed = str(data["utcNow"])
        options["clock"] = lambda: fixed
    if "seed" in data:
        rng = random.Random(data["seed"])
        options["rng"] = rng
        options["new_guid"] = lambda: uuid.UUID(int=rng.getrandbits(128), version=4)
    if "callbackUrl" in data:
        url = str(data["callbackUrl"])
        options["callback_url"] = lambda: url
    return ExpressionContext(
        parameters=data.get("parameters") or {},
        variables=data.get("variables") or {},
        trigger=trigger,
        actions=data.get("actions") or {},
        results=data.get("results") or {},
        item=data.get("item", NO_ITEM),
        items=data.get("items") or {},
        iteration_indexes=data.get("iterationIndexes") or {},
        workflow=data.get("workflow") or {},
        app_settings=data.get("appSettings") or {},
        **options,
    )


def evaluate_for_cli(text: str, context_json: dict[str, Any] | None = None) -> Any:
    """Evaluate ``text`` (with or without a leading ``@``, or a text holding ``@{...}``) against a
    JSON-described context.

    The result is the runtime value: a ``decimal()`` result stays a ``Decimal`` so that
    :func:`render_json` prints it with its written scale (``5.0000``), as Logic Apps does.

    Raises:
        ExpressionError: bad syntax, or a bad context; ExpressionEvaluationError (a subclass) when
            the expression fails while running.
    """
    return evaluate_expression(text, context_from_json(context_json))


def render_json(value: Any, *, compact: bool = True) -> str:
    """An expression value as JSON text: one line when ``compact`` (Newtonsoft's ``Formatting.None``,
    what Logic Apps shows and what scripts piping the output want), else indented by two spaces."""
    return to_json_text(value, indent=None if compact else 2)
