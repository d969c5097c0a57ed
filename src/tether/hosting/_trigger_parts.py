"""What polling and webhook triggers share: the trigger kinds, the ``flow_triggers`` rows and their
leases, a trigger's evaluated inputs, and the signed callback URL.

One :class:`TriggerContext` per :class:`~tether.hosting.ConnectorTriggers`; the polling and the
webhook halves both read and write trigger rows through it, so a lease means the same to both.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sqlalchemy.orm import Session, object_session

from tether.errors import InputError, TetherError
from tether.flows import TriggerSpec, load_flow
from tether.flows.engine import ActionFailure, isoformat
from tether.flows.expressions import ExpressionContext, evaluate
from tether.hosting._connector_calls import FlowConnectorCaller
from tether.services.hosted import (
    PreparedCall,
    environment_values,
    prepare_by_id,
    run_parameters,
    trigger_signature,
)
from tether.store import Database, Flow, FlowTrigger, FlowTriggers, utcnow

__all__ = [
    "CALL_FAILURES",
    "CONNECTOR_WEBHOOKS",
    "HTTP_WEBHOOK",
    "LEASE",
    "POLLING_TRIGGERS",
    "WEBHOOK_TRIGGERS",
    "TriggerContext",
    "connection_of",
    "connector_request",
    "header",
    "inputs_hash",
    "is_subscribed",
    "trigger_result",
]

POLLING_TRIGGERS = frozenset({"ApiConnection", "OpenApiConnection"})
CONNECTOR_WEBHOOKS = frozenset({"ApiConnectionWebhook", "OpenApiConnectionWebhook"})
HTTP_WEBHOOK = "HttpWebhook"
WEBHOOK_TRIGGERS = CONNECTOR_WEBHOOKS | {HTTP_WEBHOOK}
LEASE = timedelta(seconds=120)
# What a trigger's call to an API may raise (the connector caller speaks the engine's ActionFailure):
# kept in the row's state as its error, never fatal to the pass.
CALL_FAILURES = (TetherError, ConnectionError, ActionFailure)


def inputs_hash(trigger: TriggerSpec, connection_id: str | None, *, webhook: bool) -> str:
    """What resets a trigger's state when it changes: type and inputs (and a webhook's connection)."""
    material = {"type": trigger.type, "inputs": trigger.raw.get("inputs")}
    if webhook:
        material["connection"] = connection_id
    return hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()


def is_subscribed(state: Mapping[str, Any]) -> bool:
    """A connector webhook keeps the API's ``Location``; an HttpWebhook marks itself ``subscribed``."""
    return bool(state.get("location") or state.get("subscribed"))


def trigger_result(
    name: str, inputs: Any, status: int, headers: Mapping[str, str], body: Any
) -> dict[str, Any]:
    """The trigger's history entry a run starts with (Logic Apps' shape: outputs headers/body/status)."""
    stamp = isoformat(utcnow())
    return {
        "name": name,
        "inputs": inputs if isinstance(inputs, Mapping) else {},
        "outputs": {"headers": dict(headers), "body": body, "statusCode": status},
        "startTime": stamp,
        "endTime": stamp,
        "status": "Succeeded",
        "code": "OK",
    }


def connection_of(host: Any, parameters: Mapping[str, Any]) -> str:
    """The Tether connection id an (evaluated) ``host`` names (as the connector action does)."""
    connection = host.get("connection") if isinstance(host, Mapping) else None
    if isinstance(connection, Mapping) and connection.get("name"):
        return str(connection["name"])
    reference = (connection.get("referenceName") if isinstance(connection, Mapping) else None) or (
        host.get("connectionName") if isinstance(host, Mapping) else None
    )
    entry = (parameters.get("$connections") or {}).get(str(reference)) if reference else None
    if isinstance(entry, Mapping) and entry.get("connectionId"):
        return str(entry["connectionId"])
    raise InputError("the trigger names no mapped connection (host.connection.name or referenceName)")


def connector_request(
    trigger: TriggerSpec, inputs: Any
) -> tuple[str, str, dict[str, Any], dict[str, str], Any]:
    """method, path (or operation id), queries, headers, body of a connector trigger's evaluated inputs."""
    if not isinstance(inputs, Mapping):
        raise InputError(f"trigger {trigger.name!r} has no inputs")
    if trigger.type.startswith("OpenApi"):
        host = inputs.get("host") or {}
        return "OPERATION", str(host.get("operationId", "")), {}, {}, inputs.get("parameters") or {}
    method = str(inputs.get("method", "post" if trigger.type in WEBHOOK_TRIGGERS else "get")).upper()
    headers = {str(k): str(v) for k, v in (inputs.get("headers") or {}).items()}
    return (
        method,
        str(inputs.get("path", "/")),
        dict(inputs.get("queries") or {}),
        headers,
        inputs.get("body"),
    )


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value by lower-case ``name``, whatever case the answer used."""
    return next((v for k, v in headers.items() if k.lower() == name), None)


class TriggerContext:
    """The trigger rows of one process and what reading a trigger needs (evaluation, connections)."""

    def __init__(
        self,
        db: Database,
        caller: FlowConnectorCaller,
        *,
        instance: str,
        submit: Callable[[str], None],
        signing_key: Callable[[], bytes],
        public_url: str,
    ) -> None:
        self.db, self.caller, self.instance, self.submit = db, caller, instance, submit
        self._read_key, self.public_url = signing_key, public_url.rstrip("/")
        self._key: bytes | None = None

    def signing_key(self) -> bytes:
        """Read once, outside any session (the first read may write the key: SQLite has one writer)."""
        if self._key is None:
            self._key = self._read_key()
        return self._key

    def callback_url(self, flow_id: str, trigger: str) -> str:
        """What ``@listCallbackUrl()`` gives a webhook trigger: its signed ``/events`` URL."""
        signature = trigger_signature(self.signing_key(), flow_id, trigger)
        return f"{self.public_url}/api/v1/flows/{flow_id}/triggers/{trigger}/events?sig={signature}"

    def evaluate(self, flow: Flow, trigger: TriggerSpec) -> tuple[Any, dict[str, Any]]:
        """The trigger's inputs with expressions evaluated, and the run parameters they used."""
        parameters = run_parameters(flow)
        context = ExpressionContext(
            parameters=parameters,
            callback_url=lambda: self.callback_url(flow.id, trigger.name),
            # Standard definitions read endpoints and keys with appsetting() in trigger inputs too.
            app_settings=environment_values(
                self.db, flow.id, self.caller.keyring, session=object_session(flow)
            ),
        )
        return evaluate(trigger.raw.get("inputs"), context), parameters

    def prepare(self, connection_id: str) -> PreparedCall:
        return prepare_by_id(
            self.db,
            connection_id,
            keyring=self.caller.keyring,
            cache=self.caller.runtime.cache,
            road=self.caller.runtime.runtime,
        )

    async def call_url(self, connection_id: str, method: str, url: str) -> tuple[int, Mapping[str, str], Any]:
        """``method`` on an absolute URL the API gave (a Location), through the connection."""
        call = await asyncio.to_thread(self.prepare, connection_id)
        parts = urlsplit(url)
        path = parts.path
        for server in call.compiled.api.servers:
            base = urlsplit(server.url).path.rstrip("/")
            if base and path.startswith(base + "/"):
                path = path[len(base) :]
                break
        queries = dict(parse_qsl(parts.query, keep_blank_values=True))
        return await self.caller.call(connection_id, method, path, queries, {}, None, "", async_pattern=False)

    def lease(self, flow_id: str, now: datetime) -> bool:
        with self.db.session() as session:
            return FlowTriggers(session).lease(flow_id, self.instance, now, now + LEASE)

    def save(self, flow_id: str, **values: Any) -> None:
        """Set ``values`` on the row and release its lease."""
        with self.db.session() as session:
            row = FlowTriggers(session).get(flow_id)
            if row is not None:
                for name, value in values.items():
                    setattr(row, name, value)
                row.leased_by, row.leased_until, row.updated_at = None, None, utcnow()

    def wanted(self, flow: Flow | None) -> str | None:
        """The inputs hash the flow's trigger should have now; None when it needs no row."""
        if flow is None:
            return None
        trigger = load_flow(flow.definition).trigger
        if trigger is None or trigger.type not in POLLING_TRIGGERS | WEBHOOK_TRIGGERS:
            return None
        connection = None
        if trigger.type in CONNECTOR_WEBHOOKS:
            try:
                inputs, parameters = self.evaluate(flow, trigger)
                connection = connection_of(inputs.get("host"), parameters)
            except (InputError, AttributeError, TetherError):
                connection = None
        return inputs_hash(trigger, connection, webhook=trigger.type in WEBHOOK_TRIGGERS)

    def insert(self, session: Session, flow: Flow, now: datetime, *, poll: bool) -> None:
        trigger = load_flow(flow.definition).trigger
        if trigger is None:
            return
        session.add(
            FlowTrigger(
                flow_id=flow.id,
                environment_id=flow.environment_id,
                trigger_name=trigger.name,
                trigger_type=trigger.type,
                inputs_hash=self.wanted(flow) or "",
                state={},
                next_poll_at=now if poll else None,
            )
        )
