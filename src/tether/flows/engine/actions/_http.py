"""The HTTP action: one request with retries, Idempotency-Key, and the 202/Location async pattern.

It takes the runtime's road like every outbound call of the product: the runtime's transport
(network policy, redirects that never carry credentials to another origin, timeouts, retries
decided by the action's Logic Apps retry policy) and the runtime's async-pattern rules (poll
limits; a Location on another origin is polled without the credentials).

Every request carries ``Idempotency-Key`` (unless the definition sets one): stable for the action
instance in this run, so retries and a resumed run's repeat of the in-flight action are the same
key and the API can drop duplicates (DESIGN.md: at-least-once for the action in flight).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Generator, Mapping
from datetime import timedelta
from typing import Any

import httpx

from tether.flows.engine._errors import ActionFailure
from tether.flows.engine._model import isoformat
from tether.flows.engine._retry import RetryPolicy
from tether.flows.engine._step import Outcome, Step
from tether.flows.engine.actions._action_retry import ActionRetry
from tether.flows.engine.actions._registry import action
from tether.flows.engine.actions._retrying import Reply, header, status_code_name
from tether.runtime import (
    EAGER_BODY_BYTES,
    EAGER_BODY_EXTENSION,
    AsyncPattern,
    ConnectionContext,
    DestinationRefused,
    RetryNote,
    Transport,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
    follow_up,
    poll_flow,
    wants_polling,
)

__all__ = ["decode_body", "http_outcome", "http_transport"]


def decode_body(response: httpx.Response) -> Any:
    """JSON when the answer says so, text for text, a base64 ``$content`` envelope for bytes."""
    content_type = response.headers.get("content-type", "")
    if not response.content:
        return None
    if "json" in content_type:
        try:
            return response.json()
        except ValueError:
            return response.text
    if content_type.startswith("text/") or "xml" in content_type or not content_type:
        try:
            return response.content.decode(response.encoding or "utf-8")
        except UnicodeDecodeError:
            pass
    return {"$content-type": content_type, "$content": base64.b64encode(response.content).decode()}


def _authorization(auth: Any) -> tuple[httpx.Auth | None, dict[str, str]]:
    """The auth scheme the action's ``authentication`` asks for, and its secret values (for the
    transport: masked in logs, stripped from anything that leaves the origin)."""
    if not isinstance(auth, Mapping):
        return None, {}
    kind = str(auth.get("type", "")).lower()
    if kind == "basic":
        password = str(auth.get("password", ""))
        return httpx.BasicAuth(str(auth.get("username", "")), password), {"password": password}
    if kind == "raw":
        value = str(auth.get("value", ""))
        return _RawAuthorization(value), {"authorization": value}
    if kind in ("", "none"):
        return None, {}
    raise ActionFailure(
        "AuthenticationTypeNotSupported",
        f"HTTP authentication '{auth.get('type')}' is not "
        "supported yet; use Basic or Raw, or call the API through a connector and a connection.",
    )


class _RawAuthorization(httpx.Auth):
    """``authentication: {type: Raw, value}``: the value as the ``Authorization`` header."""

    def __init__(self, value: str) -> None:
        self._value = value

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._value
        yield request


def http_outcome(status: int, headers: Mapping[str, str], body: Any, inputs: Any) -> Outcome:
    """Outputs in Logic Apps' shape; a 4xx/5xx answer fails the action but keeps its outputs."""
    outputs = {"statusCode": status, "headers": dict(headers), "body": body}
    if status >= 400:
        raise ActionFailure(
            status_code_name(status), f"The request failed with status {status}.", outputs=outputs
        )
    return Outcome(outputs=outputs, inputs=inputs, code=status_code_name(status))


@action("Http", side_effects=True)
async def http_action(step: Step) -> Outcome:
    """Send the request on the runtime's transport, with the action's retry policy, then follow the
    async pattern (202 + Location) on the runtime's follow-up rules, within its poll limits."""
    inputs = step.inputs()
    if not isinstance(inputs, Mapping) or not inputs.get("uri") or not inputs.get("method"):
        raise ActionFailure("InvalidTemplate", "The HTTP action needs inputs with 'method' and 'uri'.")
    method = str(inputs["method"]).upper()
    headers = {str(k): str(v) for k, v in (inputs.get("headers") or {}).items()}
    auth, secrets = _authorization(inputs.get("authentication"))
    if header(headers, "Idempotency-Key") is None and step.record.idempotency_key:
        headers["Idempotency-Key"] = step.record.idempotency_key
    queries = {str(k): str(v) for k, v in (inputs.get("queries") or {}).items()}
    body, content = inputs.get("body"), None
    if isinstance(body, dict | list | bool | int | float):
        content = json.dumps(body).encode()
        if header(headers, "Content-Type") is None:
            headers["Content-Type"] = "application/json"
    elif isinstance(body, str):
        content = body.encode()
    try:
        # httpx replaces the query written in the URI when given params, even empty ones.
        request = httpx.Request(
            method, str(inputs["uri"]), params=queries or None, headers=headers, content=content
        )
    except httpx.InvalidURL as exc:
        raise ActionFailure("InvalidTemplate", f"The URI is not valid: {exc}") from exc
    # The answer is read whole below anyway: a small one of declared length is read in the
    # transport's own reader, not through httpx's stream layers (as the invoke road reads it).
    request.extensions[EAGER_BODY_EXTENSION] = EAGER_BODY_BYTES
    policy = RetryPolicy.from_definition(inputs.get("retryPolicy"))
    transport = http_transport(step, policy)
    connection = ConnectionContext(connection_id="flow-http", parameters=secrets, auth=auth)
    status, answer_headers, answer = await _exchange(transport, request, connection)
    if status == 202:  # the async pattern may start (wants_polling: 202 with a Location)
        first = httpx.Response(status, headers=answer_headers)
        asynchronous = "disableasyncpattern" not in str(step.raw.get("operationOptions", "")).lower()
        if asynchronous and wants_polling(first):
            status, answer_headers, answer = await _poll(step, transport, request, connection, first)
    shown = {k: v for k, v in inputs.items() if k != "retryPolicy"}
    shown["headers"] = headers
    return http_outcome(status, answer_headers, answer, shown)


async def _exchange(transport: Transport, request: httpx.Request, connection: ConnectionContext) -> Reply:
    """One send (with its retries and redirects); the answer read whole, Tether's errors as failures."""
    try:
        response = await transport.send(request, connection)
        try:
            await response.aread()
        finally:
            await response.aclose()
    except DestinationRefused as exc:
        raise ActionFailure(
            "DestinationRefused",
            f"{exc.message}. An environment admin can allow it in the environment's 'network_allow' "
            "setting (PUT /api/v1/environments/{env}/settings).",
        ) from exc
    except UpstreamUnavailable as exc:
        raise ActionFailure("ServiceUnreachable", f"The request failed: {exc.message}") from exc
    except UpstreamError as exc:
        raise ActionFailure(_pascal(exc.code), exc.message) from exc
    except httpx.HTTPError as exc:  # an error the transport leaves as is (a body that cannot be read)
        raise ActionFailure("ServiceUnreachable", f"The request failed: {type(exc).__name__}") from exc
    return response.status_code, dict(response.headers), decode_body(response)


async def _poll(
    step: Step,
    transport: Transport,
    request: httpx.Request,
    connection: ConnectionContext,
    first: httpx.Response,
) -> Reply:
    """GET the Location until the answer is not 202: the runtime's poll rules (its limits, the
    Retry-After it honours, credentials only on the operation's origin) on the run's clock."""
    services = step.services
    pattern = AsyncPattern(
        timeout=services.async_timeout,
        max_polls=services.max_async_polls,
        default_interval=services.async_poll_interval,
    )
    flow = poll_flow(first, request.url, pattern, clock=lambda: services.clock.now().timestamp())
    try:
        poll = next(flow)
        while True:
            await step.sleep(poll.delay)
            last = await _exchange(transport, follow_up(request, poll.url), connection)
            poll = flow.send(httpx.Response(last[0], headers=last[1]))
    except StopIteration:
        return last  # the flow ends on the answer it was last sent
    except UpstreamTimeout as exc:
        raise ActionFailure("UpstreamTimeout", exc.message) from exc


def _check_host(step: Step, url: httpx.URL) -> None:
    """Refuse a host the environment's data policy denies, before anything is sent to it (the
    transport asks for every hop: the first request, each redirect, each 202 poll)."""
    refusal = step.run.spec.http_rules.refusal(url.host)
    if refusal is not None:
        raise ActionFailure(
            "DataPolicyViolation",
            f"The HTTP request was blocked: {refusal}. An environment admin can change the endpoint "
            "rules ('tether env dlp set').",
        )


def http_transport(step: Step, policy: RetryPolicy) -> Transport:
    """The runtime's transport for one action: the run's network policy, the action's retry policy
    (waits on the run's clock, each retry kept in the action's history)."""
    services = step.services
    clock = services.clock
    started = [clock.now()]

    def note(retry: RetryNote) -> None:
        entry: dict[str, Any] = {
            "startTime": isoformat(started[0]),
            "endTime": isoformat(clock.now()),
            "code": status_code_name(retry.status) if retry.status else "ServiceUnreachable",
            "waitSeconds": round(retry.delay, 3),
        }
        if retry.error:
            entry["error"] = {"code": "ServiceUnreachable", "message": retry.error}
        step.record.retries.append(entry)
        started[0] = clock.now() + timedelta(seconds=retry.delay)

    return Transport(
        services.http_client(),
        retry=ActionRetry(action_policy=policy, rng=services.rng),
        network_policy=step.run.spec.network_policy or services.network_policy,
        timeout=httpx.Timeout(services.http_timeout),
        sleep=step.sleep,
        deadline=services.http_deadline,
        on_retry=note,
        check_destination=lambda url: _check_host(step, url),
    )


def _pascal(code: str) -> str:
    return "".join(part.capitalize() for part in code.split("-"))
