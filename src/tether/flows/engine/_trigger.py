"""Trigger results: what ``trigger()``, ``triggerOutputs()`` and ``triggerBody()`` read in a run.

The manual and Request triggers carry the caller's headers, query and body; a Recurrence tick
carries its scheduled time. A Request trigger's ``schema`` is checked here when the trigger asks for
it (``EnableSchemaValidation``), so a caller sending a wrong body gets every problem at once in a 400
and no run starts.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

import jsonschema.exceptions
import referencing.exceptions

from tether.errors import InputError
from tether.flows._definition import TriggerSpec
from tether.flows._request import schema_validation_enabled, schema_validator, trigger_schema
from tether.flows.engine._model import isoformat

__all__ = [
    "form_body",
    "manual_trigger_result",
    "recurrence_trigger_result",
    "request_trigger_result",
    "validate_trigger_body",
]


def _result(name: str, outputs: dict[str, Any], now: datetime, **extra: Any) -> dict[str, Any]:
    stamp = isoformat(now)
    return {
        "name": name,
        "inputs": {},
        "outputs": outputs,
        "startTime": stamp,
        "endTime": stamp,
        "status": "Succeeded",
        "code": "OK",
        **extra,
    }


def manual_trigger_result(
    name: str,
    body: Any,
    now: datetime,
    *,
    headers: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A run started by hand (API/CLI) with ``body``: shaped like a Request trigger's result."""
    return _result(name, {"headers": dict(headers or {}), "body": body}, now)


def request_trigger_result(
    name: str,
    *,
    headers: Mapping[str, str],
    queries: Mapping[str, str],
    body: Any,
    now: datetime,
    path_parameters: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A Request trigger fired by an HTTP call."""
    outputs = {"headers": dict(headers), "body": body, "queries": dict(queries)}
    if path_parameters is not None:
        outputs["relativePathParameters"] = dict(path_parameters)
    return _result(name, outputs, now)


def form_body(raw: bytes, content_type: str) -> dict[str, Any]:
    """An ``application/x-www-form-urlencoded`` body as Logic Apps hands it to a flow: the content
    envelope plus ``$formdata``, the decoded pairs in order (what ``triggerFormDataValue`` reads)."""
    pairs = parse_qsl(raw.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {
        "$content-type": content_type,
        "$content": base64.b64encode(raw).decode("ascii"),
        "$formdata": [{"key": key, "value": value} for key, value in pairs],
    }


def recurrence_trigger_result(name: str, scheduled: datetime, now: datetime) -> dict[str, Any]:
    """A Recurrence tick; ``scheduledTime`` is the tick, ``startTime`` when it actually fired."""
    return _result(name, {"headers": {}, "body": None}, now, scheduledTime=isoformat(scheduled))


def validate_trigger_body(trigger: TriggerSpec, body: Any) -> None:
    """Check ``body`` against the Request trigger's ``inputs.schema`` when the trigger turns on
    ``operationOptions: "EnableSchemaValidation"`` (as Logic Apps does: otherwise the schema only
    describes the body); raise a 400 listing every problem."""
    schema = trigger_schema(trigger.raw)
    if schema is None or not schema_validation_enabled(trigger.raw):
        return
    validator_class = schema_validator(schema)
    try:
        errors = sorted(validator_class(schema).iter_errors(body), key=lambda e: list(e.absolute_path))
    except (jsonschema.exceptions.SchemaError, referencing.exceptions.Unresolvable, re.error) as exc:
        # Saved before Tether checked schemas on save: still a clear answer, never a 500.
        raise InputError(
            f"the trigger's JSON schema can't be used ({exc}); fix the flow's definition "
            "(tether flow validate shows where)"
        ) from exc
    problems = [{"pointer": "/" + "/".join(map(str, e.absolute_path)), "message": e.message} for e in errors]
    if problems:
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise InputError(
            "the request body does not match the trigger's schema: "
            f"{first['pointer']}: {first['message']}{more}",
            detail={"issues": problems},
        )
