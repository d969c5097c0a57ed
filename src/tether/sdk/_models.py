"""Typed results: what the server answers, as frozen dataclasses.

Each ``from_json`` keeps the fields it knows and ignores new ones, so a newer server never
breaks an older SDK. Times are :class:`~datetime.datetime` (UTC).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tether.sdk._errors import UpstreamStatus

__all__ = [
    "ConnectionInfo",
    "Connector",
    "Flow",
    "InvokeResult",
    "Operation",
    "Run",
    "RunAction",
]

FINAL_RUN_STATUSES = frozenset({"Succeeded", "Failed", "Cancelled"})


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def _text(data: dict[str, Any], key: str, default: str = "") -> str:
    value = data.get(key)
    return value if isinstance(value, str) else default


@dataclass(frozen=True, slots=True)
class Connector:
    """A connector of an environment (an API definition and its properties)."""

    id: str
    name: str
    display_name: str
    environment: str
    current_revision: int
    updated_at: datetime | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Connector:
        return cls(
            id=_text(data, "id"),
            name=_text(data, "name"),
            display_name=_text(data, "display_name"),
            environment=_text(data, "environment"),
            current_revision=int(data.get("current_revision") or 0),
            updated_at=_time(data.get("updated_at")),
        )


@dataclass(frozen=True, slots=True)
class ConnectionInfo:
    """A connection: whose credentials for which connector, and whether it works (no secret)."""

    id: str
    display_name: str
    connector: str
    connector_id: str
    environment: str
    owner: str
    status: str
    status_reason: str | None

    @property
    def connected(self) -> bool:
        return self.status == "connected"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ConnectionInfo:
        return cls(
            id=_text(data, "id"),
            display_name=_text(data, "display_name"),
            connector=_text(data, "connector"),
            connector_id=_text(data, "connector_id"),
            environment=_text(data, "environment"),
            owner=_text(data, "owner"),
            status=_text(data, "status"),
            status_reason=data.get("status_reason"),
        )


@dataclass(frozen=True, slots=True)
class Operation:
    """One action or trigger of a connection's connector, with its merged input JSON Schema."""

    id: str
    summary: str
    description: str
    kind: str
    visibility: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Operation:
        output = data.get("output_schema")
        schema = data.get("input_schema")
        return cls(
            id=_text(data, "id") or _text(data, "operation_id"),
            summary=_text(data, "summary"),
            description=_text(data, "description"),
            kind=_text(data, "kind", "action"),
            visibility=_text(data, "visibility"),
            input_schema=schema if isinstance(schema, dict) else {"type": "object"},
            output_schema=output if isinstance(output, dict) else None,
            raw=data,
        )


@dataclass(frozen=True, slots=True)
class InvokeResult:
    """The upstream API's answer to one call: its status, headers and parsed body.

    ``body`` is parsed JSON, text, or ``bytes`` for binary content. An upstream 4xx/5xx is a
    result, not an exception (the call through Tether worked); :meth:`raise_for_status` turns
    it into one when the caller wants that.
    """

    status: int
    headers: dict[str, str]
    body: Any
    content_type: str | None
    warnings: list[str]

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 400

    def raise_for_status(self) -> InvokeResult:
        """This result when the API answered 2xx/3xx; else :class:`UpstreamStatus`."""
        if not self.ok:
            raise UpstreamStatus(self)
        return self

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> InvokeResult:
        body = data.get("body")
        if data.get("body_encoding") == "base64" and isinstance(body, str):
            body = base64.b64decode(body)
        return cls(
            status=int(data.get("status") or 0),
            headers=dict(data.get("headers") or {}),
            body=body,
            content_type=data.get("content_type"),
            warnings=list(data.get("warnings") or []),
        )


@dataclass(frozen=True, slots=True)
class Flow:
    """A flow: its trigger decides how it starts (``Request``/``manual`` ones can be run on demand)."""

    id: str
    name: str
    display_name: str
    environment: str
    enabled: bool
    trigger_name: str | None
    trigger_type: str | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Flow:
        return cls(
            id=_text(data, "id"),
            name=_text(data, "name"),
            display_name=_text(data, "display_name"),
            environment=_text(data, "environment"),
            enabled=bool(data.get("enabled")),
            trigger_name=data.get("trigger_name"),
            trigger_type=data.get("trigger_type"),
        )


@dataclass(frozen=True, slots=True)
class RunAction:
    """One action of a run, as run history shows it (secrets already redacted by the server)."""

    name: str
    type: str
    status: str
    outputs: Any
    error: dict[str, Any] | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunAction:
        return cls(
            name=_text(data, "name"),
            type=_text(data, "type"),
            status=_text(data, "status"),
            outputs=data.get("outputs"),
            error=data.get("error"),
        )


@dataclass(frozen=True, slots=True)
class Run:
    """One run of a flow; ``actions`` is filled when the run was read whole (not from a list)."""

    id: str
    flow_id: str
    status: str
    trigger_name: str
    created_at: datetime | None
    ended_at: datetime | None
    error: dict[str, Any] | None
    outputs: dict[str, Any] | None
    response: dict[str, Any] | None
    actions: tuple[RunAction, ...] = ()

    @property
    def done(self) -> bool:
        """True once the run ended (Succeeded, Failed or Cancelled)."""
        return self.status in FINAL_RUN_STATUSES

    @property
    def succeeded(self) -> bool:
        return self.status == "Succeeded"

    def action(self, name: str) -> RunAction:
        """The action called ``name``; KeyError naming the ones there are."""
        for found in self.actions:
            if found.name == name:
                return found
        raise KeyError(f"no action {name!r} in run {self.id}; it has {[a.name for a in self.actions]}")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Run:
        nested = data.get("run")  # a run read whole nests its summary beside the actions
        summary: dict[str, Any] = nested if isinstance(nested, dict) else data
        return cls(
            id=_text(summary, "id"),
            flow_id=_text(summary, "flow_id"),
            status=_text(summary, "status"),
            trigger_name=_text(summary, "trigger_name"),
            created_at=_time(summary.get("created_at")),
            ended_at=_time(summary.get("ended_at")),
            error=summary.get("error"),
            outputs=summary.get("outputs"),
            response=summary.get("response"),
            actions=tuple(RunAction.from_json(a) for a in data.get("actions") or () if isinstance(a, dict)),
        )
