"""Trigger results: what ``trigger()``, ``triggerOutputs()`` and ``triggerBody()`` read in a run.

The manual and Request triggers carry the caller's headers, query and body; a Recurrence tick
carries its scheduled time. A Request trigger's ``schema`` is checked here, so a caller sending a
wrong body gets every problem at once and no run starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import jsonschema

from tether.errors import ValidationFailed
from tether.flows._definition import TriggerSpec
from tether.flows.engine._model import isoformat

__all__ = [
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
    if path_parameters:
        outputs["relativePathParameters"] = dict(path_parameters)
    return _result(name, outputs, now)


def recurrence_trigger_result(name: str, scheduled: datetime, now: datetime) -> dict[str, Any]:
    """A Recurrence tick; ``scheduledTime`` is the tick, ``startTime`` when it actually fired."""
    return _result(name, {"headers": {}, "body": None}, now, scheduledTime=isoformat(scheduled))


def validate_trigger_body(trigger: TriggerSpec, body: Any) -> None:
    """Check ``body`` against the Request trigger's ``inputs.schema``; raise listing every problem."""
    inputs = trigger.raw.get("inputs")
    schema = inputs.get("schema") if isinstance(inputs, Mapping) else None
    if not isinstance(schema, Mapping) or not schema:
        return
    validator_class = jsonschema.validators.validator_for(schema, default=jsonschema.Draft4Validator)
    problems = [
        {"pointer": "/" + "/".join(map(str, e.absolute_path)), "message": e.message}
        for e in sorted(validator_class(schema).iter_errors(body), key=lambda e: list(e.absolute_path))
    ]
    if problems:
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ValidationFailed(
            "the request body does not match the trigger's schema: "
            f"{first['pointer']}: {first['message']}{more}",
            issues=problems,
        )
