"""Connector triggers: polling (ApiConnection/OpenApiConnection) and webhooks (ApiConnectionWebhook).

:class:`ConnectorTriggers` lives in the :class:`~tether.services.FlowRuntime` beside the Recurrence
scheduler. Each pass (``await tick(now)``) first *reconciles* every flow's trigger with its row in
``flow_triggers`` — subscribing enabled webhook flows, DELETEing the subscription ``Location`` of
flows disabled, deleted or whose trigger inputs/connection changed — then polls the due polling
triggers. Every step takes the row's lease first, so any number of processes share the work and a
poll's runs and its new state commit in one transaction: no event is fired twice or lost.

State rules: a polling trigger's state (next ``Location``, last trigger body) is kept across
disable/enable and edits; it is reset only when the trigger's type or ``inputs`` change (the hash
in ``inputs_hash``). A webhook re-subscribes when its inputs or its connection change.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jsonschema

from tether.errors import AuthError, Conflict, InputError, NotFound, TetherError, ValidationFailed
from tether.flows import TriggerSpec, load_flow
from tether.flows.engine import Recurrence, isoformat
from tether.flows.expressions import ExpressionContext, evaluate
from tether.runtime.policies import polling_trigger
from tether.services._connection_call import prepare_by_id
from tether.services._flow_connector import FlowConnectorCaller
from tether.services._flow_runs import RunInfo, create_run, run_info, run_parameters, trigger_signature
from tether.store import Database, Flow, Flows, FlowTrigger, FlowTriggers, utcnow

__all__ = ["POLLING_TRIGGERS", "WEBHOOK_TRIGGERS", "ConnectorTriggers"]

POLLING_TRIGGERS = frozenset({"ApiConnection", "OpenApiConnection"})
WEBHOOK_TRIGGERS = frozenset({"ApiConnectionWebhook", "OpenApiConnectionWebhook"})
LEASE = timedelta(seconds=120)
DEFAULT_POLL = timedelta(minutes=3)
MAX_IMMEDIATE_POLLS = 10  # Retry-After: 0 polls again at once, this many times per pass at most
_log = logging.getLogger("tether.flows")


def inputs_hash(trigger: TriggerSpec, connection_id: str | None, *, webhook: bool) -> str:
    material = {"type": trigger.type, "inputs": trigger.raw.get("inputs")}
    if webhook:
        material["connection"] = connection_id
    return hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()


def trigger_result(
    name: str, inputs: Any, status: int, headers: Mapping[str, str], body: Any
) -> dict[str, Any]:
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


def _connection_of(host: Any, parameters: Mapping[str, Any]) -> str:
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


def _request(trigger: TriggerSpec, inputs: Any) -> tuple[str, str, dict[str, Any], dict[str, str], Any]:
    """method, path (or operation id), queries, headers, body of evaluated trigger inputs."""
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


def _header(headers: Mapping[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name), None)


class ConnectorTriggers:
    """Polls and (un)subscribes connector triggers; ``await tick(now)`` is one pass."""

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
        self.signing_key, self.public_url = signing_key, public_url.rstrip("/")

    # ----- shared helpers
    def _signing_key(self) -> bytes:
        """Read once, outside any session (the first read may write the key: SQLite has one writer)."""
        if not hasattr(self, "_key"):
            self._key = self.signing_key()
        return self._key

    def callback_url(self, flow_id: str, trigger: str) -> str:
        signature = trigger_signature(self._signing_key(), flow_id, trigger)
        return f"{self.public_url}/api/v1/flows/{flow_id}/triggers/{trigger}/events?sig={signature}"

    def _evaluate(self, flow: Flow, trigger: TriggerSpec) -> tuple[Any, dict[str, Any]]:
        parameters = run_parameters(flow)
        context = ExpressionContext(
            parameters=parameters, callback_url=lambda: self.callback_url(flow.id, trigger.name)
        )
        return evaluate(trigger.raw.get("inputs"), context), parameters

    def _prepare(self, connection_id: str) -> Any:
        return prepare_by_id(
            self.db, connection_id, keyring=self.caller.keyring, cache=self.caller.runtime.cache
        )

    async def _call_url(
        self, connection_id: str, method: str, url: str
    ) -> tuple[int, Mapping[str, str], Any]:
        """``method`` on an absolute URL the API gave (a Location), through the connection."""
        call = await asyncio.to_thread(self._prepare, connection_id)
        parts = urlsplit(url)
        path = parts.path
        for server in call.compiled.api.servers:
            base = urlsplit(server.url).path.rstrip("/")
            if base and path.startswith(base + "/"):
                path = path[len(base) :]
                break
        queries = dict(parse_qsl(parts.query, keep_blank_values=True))
        return await self.caller.call(connection_id, method, path, queries, {}, None, "", async_pattern=False)

    def _lease(self, flow_id: str, now: datetime) -> bool:
        with self.db.session() as session:
            return FlowTriggers(session).lease(flow_id, self.instance, now, now + LEASE)

    def _save(self, flow_id: str, **values: Any) -> None:
        with self.db.session() as session:
            row = FlowTriggers(session).get(flow_id)
            if row is not None:
                for name, value in values.items():
                    setattr(row, name, value)
                row.leased_by, row.leased_until, row.updated_at = None, None, utcnow()

    # ----- the pass
    async def tick(self, now: datetime | None = None) -> list[str]:
        """Reconcile subscriptions, then poll what is due; returns the ids of the runs fired."""
        now = now or utcnow()
        await self.reconcile(now)
        with self.db.session() as session:
            due = [row.flow_id for row in FlowTriggers(session).due(now)]
        fired: list[str] = []
        for flow_id in due:
            try:
                fired += await self._poll(flow_id, now)
            except Conflict:
                continue
        return fired

    async def run(self, interval: float) -> None:
        while True:
            try:
                await self.tick()
            except TetherError as exc:
                _log.warning("connector trigger pass failed: %s", exc.message)
            await asyncio.sleep(interval)

    async def reconcile(self, now: datetime, *, again: bool = True) -> None:
        """Bring ``flow_triggers`` in line with the flows: create, reset, (un)subscribe, drop."""
        kinds = POLLING_TRIGGERS | WEBHOOK_TRIGGERS
        await asyncio.to_thread(self._signing_key)
        plan: list[tuple[str, str]] = []
        with self.db.session() as session:
            flows = {f.id: f for f in session.query(Flow).filter(Flow.trigger_type.in_(kinds))}
            rows = {r.flow_id: r for r in FlowTriggers(session).all()}
            for flow_id, row in rows.items():
                flow = flows.get(flow_id)
                wanted = self._wanted(flow)
                subscribed = row.trigger_type in WEBHOOK_TRIGGERS and row.state.get("location")
                if subscribed and (flow is None or not flow.enabled or wanted != row.inputs_hash):
                    plan.append(("unsubscribe", flow_id))
                elif flow is None or wanted is None:
                    if not subscribed:
                        FlowTriggers(session).delete(row)
                elif wanted != row.inputs_hash and flow.trigger_type in POLLING_TRIGGERS:
                    FlowTriggers(session).delete(row)  # the trigger's inputs changed: start afresh
                    rows.pop(flow_id)
            for flow_id, flow in flows.items():
                row = rows.get(flow_id)
                if not flow.enabled:
                    continue
                if flow.trigger_type in POLLING_TRIGGERS and row is None:
                    self._insert(session, flow, now, poll=True)
                elif flow.trigger_type in WEBHOOK_TRIGGERS and (row is None or not row.state.get("location")):
                    plan.append(("subscribe", flow_id))
        for action, flow_id in plan:
            try:
                await (self._unsubscribe if action == "unsubscribe" else self._subscribe)(flow_id, now)
            except Conflict:
                continue
        if again and any(action == "unsubscribe" for action, _flow in plan):
            await self.reconcile(now, again=False)  # re-subscribe changed triggers in the same pass

    def _wanted(self, flow: Flow | None) -> str | None:
        if flow is None:
            return None
        trigger = load_flow(flow.definition).trigger
        if trigger is None or trigger.type not in POLLING_TRIGGERS | WEBHOOK_TRIGGERS:
            return None
        webhook = trigger.type in WEBHOOK_TRIGGERS
        connection = None
        if webhook:
            try:
                inputs, parameters = self._evaluate(flow, trigger)
                connection = _connection_of(inputs.get("host"), parameters)
            except (InputError, AttributeError, TetherError):
                connection = None
        return inputs_hash(trigger, connection, webhook=webhook)

    def _insert(self, session: Any, flow: Flow, now: datetime, *, poll: bool) -> None:
        trigger = load_flow(flow.definition).trigger
        assert trigger is not None
        session.add(
            FlowTrigger(
                flow_id=flow.id,
                environment_id=flow.environment_id,
                trigger_name=trigger.name,
                trigger_type=trigger.type,
                inputs_hash=self._wanted(flow) or "",
                state={},
                next_poll_at=now if poll else None,
            )
        )

    # ----- webhooks
    async def _subscribe(self, flow_id: str, now: datetime) -> None:
        with self.db.session() as session:
            flow = Flows(session).get(flow_id)
            if flow is None or not flow.enabled:
                return
            if FlowTriggers(session).get(flow_id) is None:
                self._insert(session, flow, now, poll=False)
        if not self._lease(flow_id, now):
            return
        with self.db.session() as session:
            flow = Flows(session).get(flow_id)
            row = FlowTriggers(session).get(flow_id)
            if flow is None or row is None or row.state.get("location"):
                return
            trigger = load_flow(flow.definition).trigger
            assert trigger is not None
            inputs, parameters = self._evaluate(flow, trigger)
            session.expunge_all()
        try:
            connection = _connection_of(inputs.get("host"), parameters)
            method, path, queries, headers, body = _request(trigger, inputs)
            status, answer_headers, _answer = await self.caller.call(
                connection, method, path, queries, headers, body, "", async_pattern=False
            )
        except (TetherError, InputError, ConnectionError) as exc:
            self._save(flow_id, state={"error": str(exc)})
            return
        location = _header(answer_headers, "location")
        if status >= 300 or not location:
            self._save(flow_id, state={"error": f"subscribe answered {status} without a Location"})
            return
        self._save(
            flow_id,
            connection_id=connection,
            trigger_name=trigger.name,
            trigger_type=trigger.type,
            inputs_hash=inputs_hash(trigger, connection, webhook=True),
            state={"location": location},
        )

    async def _unsubscribe(self, flow_id: str, now: datetime) -> None:
        if not self._lease(flow_id, now):
            return
        with self.db.session() as session:
            row = FlowTriggers(session).get(flow_id)
            if row is None:
                return
            location, connection = row.state.get("location"), row.connection_id
            attempts = int(row.state.get("attempts", 0))
        try:
            status, _headers, _body = await self._call_url(str(connection), "DELETE", str(location))
            ok = status < 300 or status in (404, 410)
        except (TetherError, ConnectionError) as exc:
            _log.warning("unsubscribing flow %s failed: %s", flow_id, exc)
            ok = False
        if ok or attempts >= 5:
            with self.db.session() as session:
                row = FlowTriggers(session).get(flow_id)
                if row is not None:
                    FlowTriggers(session).delete(row)
        else:
            self._save(flow_id, state={"location": location, "attempts": attempts + 1})

    async def accept_event(
        self, flow_id: str, trigger_name: str, *, sig: str | None, headers: Mapping[str, str], body: Any
    ) -> RunInfo:
        """An event POSTed to a webhook's callback URL: check, validate, create the run (not submitted)."""
        import hmac

        expected = trigger_signature(await asyncio.to_thread(self._signing_key), flow_id, trigger_name)
        if not sig or not hmac.compare_digest(sig, expected):
            raise AuthError("the callback URL's signature is missing or wrong")
        with self.db.session() as session:
            flow = Flows(session).get(flow_id)
            row = FlowTriggers(session).get(flow_id)
            trigger = load_flow(flow.definition).trigger if flow is not None else None
            if flow is None or trigger is None or trigger.name != trigger_name or row is None:
                raise NotFound("no subscribed webhook trigger here")
            if not flow.enabled or not row.state.get("location"):
                raise Conflict("the flow is disabled or its trigger is not subscribed")
            inputs, _parameters = self._evaluate(flow, trigger)
            connection = row.connection_id
        await asyncio.to_thread(self._check_notification, trigger, inputs, str(connection), body)
        with self.db.session() as session:
            flow = Flows(session).get(flow_id)
            if flow is None:
                raise NotFound("flow not found")
            safe = {k: v for k, v in headers.items() if k.lower() not in ("authorization", "cookie")}
            result = trigger_result(trigger.name, {}, 200, safe, body)
            return run_info(create_run(session, flow, result, started_by=None))

    def _check_notification(self, trigger: TriggerSpec, inputs: Any, connection: str, body: Any) -> None:
        method, path, *_rest = _request(trigger, inputs)
        compiled = self._prepare(connection).compiled
        operation = compiled.api.operation(path) if method == "OPERATION" else compiled.match(method, path)[0]
        schema = operation.notification_content
        if not schema:
            return
        validator = jsonschema.validators.validator_for(schema, default=jsonschema.Draft4Validator)(schema)
        problems = [
            {"pointer": "/" + "/".join(map(str, e.absolute_path)), "message": e.message}
            for e in validator.iter_errors(body)
        ]
        if problems:
            raise ValidationFailed(
                f"the event does not match x-ms-notification-content: {problems[0]['message']}",
                issues=problems,
            )

    # ----- polling
    async def _poll(self, flow_id: str, now: datetime) -> list[str]:
        if not self._lease(flow_id, now):
            return []
        fired: list[str] = []
        for _round in range(MAX_IMMEDIATE_POLLS):
            again, runs = await self._poll_once(flow_id, now)
            fired += runs
            for run_id in runs:
                self.submit(run_id)
            if not again:
                break
        self._save(flow_id)  # release the lease
        return fired

    async def _poll_once(self, flow_id: str, now: datetime) -> tuple[bool, list[str]]:
        """One request; commits its runs and the new state together. Returns (poll again now, runs)."""
        with self.db.session() as session:
            flow = Flows(session).get(flow_id)
            row = FlowTriggers(session).get(flow_id)
            if flow is None or row is None or not flow.enabled or row.leased_by != self.instance:
                return False, []
            trigger = load_flow(flow.definition).trigger
            if trigger is None or trigger.type not in POLLING_TRIGGERS:
                return False, []
            state, seen_hash = dict(row.state), row.inputs_hash
            inputs, parameters = self._evaluate(flow, trigger)
        interval = self._interval(trigger, now)
        try:
            connection = _connection_of(inputs.get("host"), parameters)
            call = await asyncio.to_thread(self._prepare, connection)
            method, path, queries, headers, body = _request(trigger, inputs)
            operation = (
                call.compiled.api.operation(path)
                if method == "OPERATION"
                else call.compiled.match(method, path)[0]
            )
            cursor = polling_trigger(call.compiled.properties, operation.operation_id)
            if state.get("location"):
                status, answer_headers, answer = await self._call_url(connection, "GET", state["location"])
            else:
                if cursor is not None:
                    queries.update(cursor.query_parameters(state.get("last_body")))
                status, answer_headers, answer = await self.caller.call(
                    connection, method, path, queries, headers, body, "", async_pattern=False
                )
        except (TetherError, InputError, ConnectionError) as exc:
            self._save(flow_id, state={**state, "error": str(exc)}, next_poll_at=now + interval)
            return False, []
        location = _header(answer_headers, "location")
        retry_after = _header(answer_headers, "retry-after")
        wait = timedelta(seconds=int(retry_after)) if retry_after and retry_after.isdigit() else interval
        state.pop("error", None)
        if status == 202:
            if location:
                state["location"] = location
            self._save(flow_id, state=state, next_poll_at=now + wait)
            return False, []
        if status != 200:
            state["error"] = f"poll answered {status}"
            self._save(flow_id, state=state, next_poll_at=now + interval)
            return False, []
        bodies = self._split(trigger, operation, cursor, answer, answer_headers)
        state["location"] = location
        if bodies and cursor is not None:
            state["last_body"] = answer
        with self.db.session() as session:
            flow = Flows(session).get(flow_id)
            row = FlowTriggers(session).get(flow_id)
            if flow is None or row is None or row.inputs_hash != seen_hash or row.leased_by != self.instance:
                return False, []
            runs = [
                create_run(session, flow, trigger_result(trigger.name, inputs, 200, answer_headers, item),
                           started_by=None).id
                for item in bodies
            ]  # fmt: skip
            row.state, row.next_poll_at, row.updated_at = state, now + wait, utcnow()
        return bool(retry_after == "0" and bodies), runs

    def _split(self, trigger: TriggerSpec, operation: Any, cursor: Any, body: Any, headers: Any) -> list[Any]:
        """The trigger bodies of one 200 answer: one per item when split, else the whole body."""
        split_on = trigger.raw.get("splitOn")
        if isinstance(split_on, str):
            result = trigger_result(trigger.name, {}, 200, headers, body)
            items = evaluate(split_on, ExpressionContext(trigger=result))
            return list(items) if isinstance(items, list) else []
        if cursor is not None:
            return [body] if cursor.items(body) else []
        if operation.trigger == "batch":
            items = body.get("value") if isinstance(body, Mapping) else body
            return list(items) if isinstance(items, list) else []
        return [body]

    @staticmethod
    def _interval(trigger: TriggerSpec, now: datetime) -> timedelta:
        if not isinstance(trigger.raw.get("recurrence"), Mapping):
            return DEFAULT_POLL
        try:
            return Recurrence.from_trigger(trigger.raw).next_after(now, anchor=now) - now
        except TetherError:
            return DEFAULT_POLL
