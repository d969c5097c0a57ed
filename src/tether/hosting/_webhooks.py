"""Webhook triggers: subscribe, take events at the signed callback URL, unsubscribe.

Two kinds share one lifecycle (REFERENCE.md §5, "Webhook"):

- connector webhooks (``ApiConnectionWebhook``/``OpenApiConnectionWebhook``) call the connector's
  subscribe operation through the flow's connection; the API answers ``201`` with a ``Location``
  that is DELETEd, through the same connection, to unsubscribe. Events are checked against the
  operation's ``x-ms-notification-content``.
- ``HttpWebhook`` sends its declared ``subscribe`` call; the evaluated ``unsubscribe`` call is kept,
  encrypted with the key ring (it holds credentials), with the subscription and sent to end it
  (``_http_webhook.py``).

Either way ``@listCallbackUrl()`` is the signed ``/flows/{id}/triggers/{name}/events?sig=…`` URL,
and an event POSTed there starts a run whose trigger outputs are the event's headers and body.
:class:`~tether.hosting.ConnectorTriggers` decides when to (un)subscribe; each step here holds
the trigger row's lease.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import jsonschema

from tether.errors import AuthError, Conflict, NotFound, ValidationFailed
from tether.flows import TriggerSpec, load_flow
from tether.flows.engine import isoformat
from tether.hosting._http_webhook import WebhookCall, environment_policy, send_call
from tether.hosting._trigger_parts import (
    CALL_FAILURES,
    CONNECTOR_WEBHOOKS,
    HTTP_WEBHOOK,
    TriggerContext,
    connection_of,
    connector_request,
    header,
    inputs_hash,
    is_subscribed,
    trigger_result,
)
from tether.services.hosted import RunInfo, create_run, record_trigger_failure, run_info, trigger_signature
from tether.store import Flows, FlowTriggers

__all__ = ["MAX_UNSUBSCRIBE_ATTEMPTS", "SUBSCRIBE_RETRY", "WebhookTriggers"]

SUBSCRIBE_RETRY = timedelta(minutes=1)  # after a failed subscribe, unless the trigger changes
MAX_UNSUBSCRIBE_ATTEMPTS = 5  # then the subscription is forgotten (the API may keep calling: 404s)
# Event headers a run must not keep: the caller's own credentials.
_PRIVATE_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
_GONE = (404, 410)  # an unsubscribe answered with these has nothing left to end
_log = logging.getLogger("tether.flows")


class WebhookTriggers:
    """Subscribes and unsubscribes one flow's webhook trigger at a time, and turns events into runs."""

    def __init__(self, context: TriggerContext) -> None:
        self.context = context

    # ----- subscribe
    async def subscribe(self, flow_id: str, now: datetime) -> None:
        # Database work runs in threads (SQLite's write lock must never be waited for on the event
        # loop); only the subscribe call itself is awaited here, with no transaction open.
        context = self.context
        if not await asyncio.to_thread(self._lease_to_subscribe, flow_id, now):
            return
        connection: str | None = None
        try:
            loaded = await asyncio.to_thread(self._load, flow_id)
            if loaded is None:
                await asyncio.to_thread(context.save, flow_id)  # subscribed meanwhile, or gone: release
                return
            trigger, inputs, parameters, environment = loaded
            if trigger.type == HTTP_WEBHOOK:
                state = await self._subscribe_http(flow_id, environment, inputs)
            else:
                connection = connection_of(inputs.get("host"), parameters)
                state = await self._subscribe_connector(connection, trigger, inputs)
        except CALL_FAILURES as exc:
            state = {"error": str(exc)}
        if "error" in state:
            retry = {**state, "retry_at": isoformat(now + SUBSCRIBE_RETRY)}
            await asyncio.to_thread(self._failed, flow_id, retry)
            return
        await asyncio.to_thread(
            context.save,
            flow_id,
            connection_id=connection,
            trigger_name=trigger.name,
            trigger_type=trigger.type,
            inputs_hash=inputs_hash(trigger, connection, webhook=True),
            state=state,
        )

    def _failed(self, flow_id: str, state: dict[str, Any]) -> None:
        """Keep a failed subscribe's error (retried later); the first failure of a run of them is
        a ``trigger.failed`` event (not every retry: it is retried every minute)."""
        with self.context.db.session() as session:
            row = FlowTriggers(session).get(flow_id)
            failing = row is not None and "error" in (row.state or {})
            name = (row.trigger_name if row is not None else None) or "subscribe"
        self.context.save(flow_id, state=state)
        if not failing:
            record_trigger_failure(self.context.db, flow_id, name, str(state["error"]))

    def _lease_to_subscribe(self, flow_id: str, now: datetime) -> bool:
        """Take the trigger row's lease (making the row first) if the flow is still enabled."""
        context = self.context
        with context.db.session() as session:
            flow = Flows(session).get(flow_id)
            if flow is None or not flow.enabled:
                return False
            if FlowTriggers(session).get(flow_id) is None:
                context.insert(session, flow, now, poll=False)
        return context.lease(flow_id, now)

    def _load(self, flow_id: str) -> tuple[TriggerSpec, Any, dict[str, Any], str] | None:
        """The trigger to subscribe, its evaluated inputs, parameters and environment; None if done."""
        with self.context.db.session() as session:
            flow = Flows(session).get(flow_id)
            row = FlowTriggers(session).get(flow_id)
            trigger = load_flow(flow.definition).trigger if flow is not None else None
            if flow is None or row is None or trigger is None or is_subscribed(row.state):
                return None
            # What this attempt is for: a failed one is retried at once only if the trigger changes.
            row.inputs_hash = self.context.wanted(flow) or ""
        inputs, parameters = self.context.evaluate(flow, trigger)
        return trigger, inputs, parameters, flow.environment_id

    async def _subscribe_connector(
        self, connection: str, trigger: TriggerSpec, inputs: Any
    ) -> dict[str, Any]:
        method, path, queries, headers, body = connector_request(trigger, inputs)
        status, answer_headers, _answer = await self.context.caller.call(
            connection, method, path, queries, headers, body, "", async_pattern=False
        )
        location = header(answer_headers, "location")
        if status >= 300 or not location:
            return {"error": f"subscribe answered {status} without a Location"}
        return {"location": location}

    async def _subscribe_http(self, flow_id: str, environment: str, inputs: Any) -> dict[str, Any]:
        subscribe = WebhookCall.from_inputs(inputs, "subscribe")
        # Checked before subscribing: a subscription that could never be ended is not started.
        declared = isinstance(inputs, Mapping) and inputs.get("unsubscribe")
        unsubscribe = WebhookCall.from_inputs(inputs, "unsubscribe") if declared else None
        policy = await asyncio.to_thread(environment_policy, self.context.db, environment)
        runtime = self.context.caller.runtime.runtime
        status, _headers = await send_call(runtime, subscribe, policy=policy, key=f"flow:{flow_id}")
        if status >= 300:
            return {"error": f"subscribe answered {status}"}
        keyring = self.context.caller.keyring
        return {"subscribed": True, "unsubscribe": unsubscribe.encrypted(keyring) if unsubscribe else None}

    # ----- unsubscribe
    async def unsubscribe(self, flow_id: str, now: datetime) -> None:
        context = self.context
        found = await asyncio.to_thread(self._lease_to_unsubscribe, flow_id, now)
        if found is None:
            return
        state, kind, connection, environment = found
        attempts = int(state.get("attempts", 0))
        try:
            if kind == HTTP_WEBHOOK:
                ok = await self._unsubscribe_http(flow_id, environment, state.get("unsubscribe"))
            else:
                status, _headers, _body = await context.call_url(
                    str(connection), "DELETE", str(state.get("location"))
                )
                ok = status < 300 or status in _GONE
        except CALL_FAILURES as exc:
            _log.warning("unsubscribing flow %s failed: %s", flow_id, exc)
            ok = False
        if ok or attempts >= MAX_UNSUBSCRIBE_ATTEMPTS:
            await asyncio.to_thread(self._forget, flow_id)
        else:
            await asyncio.to_thread(context.save, flow_id, state={**state, "attempts": attempts + 1})

    def _lease_to_unsubscribe(
        self, flow_id: str, now: datetime
    ) -> tuple[dict[str, Any], str, str | None, str] | None:
        """The row's state, trigger type, connection and environment, under its lease; None if gone."""
        if not self.context.lease(flow_id, now):
            return None
        with self.context.db.session() as session:
            row = FlowTriggers(session).get(flow_id)
            if row is None:
                return None
            return dict(row.state), row.trigger_type, row.connection_id, row.environment_id

    def _forget(self, flow_id: str) -> None:
        with self.context.db.session() as session:
            row = FlowTriggers(session).get(flow_id)
            if row is not None:
                FlowTriggers(session).delete(row)

    async def _unsubscribe_http(self, flow_id: str, environment: str, stored: Any) -> bool:
        if not isinstance(stored, str | Mapping):
            return True  # no unsubscribe declared: forgetting the subscription is all there is to do
        policy = await asyncio.to_thread(environment_policy, self.context.db, environment)
        runtime = self.context.caller.runtime.runtime
        # Decrypted only now, for this one call (a DecryptionFailed counts as a failed attempt).
        call = WebhookCall.from_stored(stored, self.context.caller.keyring)
        status, _headers = await send_call(runtime, call, policy=policy, key=f"flow:{flow_id}")
        return status < 300 or status in _GONE

    # ----- events
    async def accept_event(
        self, flow_id: str, trigger_name: str, *, sig: str | None, headers: Mapping[str, str], body: Any
    ) -> RunInfo:
        """An event POSTed to a webhook's callback URL: check, validate, create the run (not submitted).

        Raises ``AuthError`` for a missing or wrong signature, ``NotFound`` when the flow has no
        such trigger, ``Conflict`` when the flow is disabled or the trigger not subscribed, and
        ``ValidationFailed`` when a connector's ``x-ms-notification-content`` refuses the body.
        """
        key = await asyncio.to_thread(self.context.signing_key)
        expected = trigger_signature(key, flow_id, trigger_name)
        if not sig or not hmac.compare_digest(sig.encode(), expected.encode()):
            raise AuthError("the callback URL's signature is missing or wrong")
        return await asyncio.to_thread(self._accept, flow_id, trigger_name, headers, body)

    def _accept(self, flow_id: str, trigger_name: str, headers: Mapping[str, str], body: Any) -> RunInfo:
        context = self.context
        with context.db.session() as session:
            flow = Flows(session).get(flow_id)
            row = FlowTriggers(session).get(flow_id)
            trigger = load_flow(flow.definition).trigger if flow is not None else None
            if flow is None or trigger is None or trigger.name != trigger_name:
                raise NotFound("no webhook trigger here")
            if not flow.enabled:
                raise Conflict("the flow is disabled")
            if row is None or not is_subscribed(row.state) or row.trigger_type != trigger.type:
                raise Conflict("the trigger is not subscribed (yet)")
            connection = row.connection_id if trigger.type in CONNECTOR_WEBHOOKS else None
            inputs = context.evaluate(flow, trigger)[0] if connection is not None else None
        if connection is not None:
            self._check_notification(trigger, inputs, connection, body)
        with context.db.session() as session:
            flow = Flows(session).get(flow_id)
            if flow is None:
                raise NotFound("flow not found")
            safe = {k: v for k, v in headers.items() if k.lower() not in _PRIVATE_HEADERS}
            result = trigger_result(trigger.name, {}, 200, safe, body)
            keyring = context.caller.keyring  # secret headers sealed at rest, real for the flow
            return run_info(create_run(session, flow, result, started_by=None, keyring=keyring))

    def _check_notification(self, trigger: TriggerSpec, inputs: Any, connection: str, body: Any) -> None:
        method, path, *_rest = connector_request(trigger, inputs)
        compiled = self.context.prepare(connection).compiled
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
