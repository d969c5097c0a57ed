"""What run history may show: secret headers and secure data replaced by a marker.

Engines keep the real values (later actions need them); only the history view is redacted. Header
values are hidden by name wherever a ``headers`` object appears in inputs or outputs, and a whole
side is hidden when ``runtimeConfiguration.secureData.properties`` lists ``inputs`` or ``outputs``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tether.flows.engine._model import ActionRecord

__all__ = ["REDACTED", "SECRET_HEADERS", "history_view", "redact_headers", "secure_sides"]

REDACTED = "*** redacted ***"
SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "api-key",
        "ocp-apim-subscription-key",
        "x-functions-key",
        "x-ms-client-secret",
    }
)


def redact_headers(value: Any) -> Any:
    """A copy of ``value`` with the values of secret headers inside any ``headers`` object hidden."""
    if isinstance(value, Mapping):
        copied: dict[str, Any] = {}
        for key, item in value.items():
            if key.lower() == "headers" and isinstance(item, Mapping):
                copied[key] = {
                    name: REDACTED if str(name).lower() in SECRET_HEADERS else header
                    for name, header in item.items()
                }
            else:
                copied[key] = redact_headers(item)
        return copied
    if isinstance(value, list):
        return [redact_headers(item) for item in value]
    return value


def secure_sides(raw: Mapping[str, Any]) -> tuple[bool, bool]:
    """``(inputs, outputs)`` secure flags from an action's ``runtimeConfiguration.secureData``."""
    config = raw.get("runtimeConfiguration")
    secure = config.get("secureData") if isinstance(config, Mapping) else None
    properties = secure.get("properties") if isinstance(secure, Mapping) else None
    names = {str(p).lower() for p in properties} if isinstance(properties, list) else set()
    return "inputs" in names, "outputs" in names


def history_view(record: ActionRecord) -> ActionRecord:
    """A copy of ``record`` fit for run history: secure sides hidden, secret headers masked."""
    view = ActionRecord(**{**record.__dict__})
    view.inputs = (
        REDACTED if record.secure_inputs and record.inputs is not None else redact_headers(record.inputs)
    )
    view.outputs = (
        REDACTED if record.secure_outputs and record.outputs is not None else redact_headers(record.outputs)
    )
    view.retries = [redact_headers(r) for r in record.retries]
    return view
