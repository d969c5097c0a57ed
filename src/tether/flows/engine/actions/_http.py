"""The HTTP action: one request with retries, Idempotency-Key, and the 202/Location async pattern.

Every request carries ``Idempotency-Key`` (unless the definition sets one): stable for the action
instance in this run, so retries and a resumed run's repeat of the in-flight action are the same
key and the API can drop duplicates (DESIGN.md: at-least-once for the action in flight).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

import httpx

from tether.flows.engine._errors import ActionFailure
from tether.flows.engine._retry import RetryPolicy
from tether.flows.engine._step import Outcome, Step
from tether.flows.engine.actions._registry import action
from tether.flows.engine.actions._retrying import Reply, header, send_with_retries, status_code_name
from tether.runtime import NETWORK_POLICY_EXTENSION, DestinationRefused

__all__ = ["decode_body", "http_outcome"]


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


def _authorization(auth: Any) -> str | None:
    if not isinstance(auth, Mapping):
        return None
    kind = str(auth.get("type", "")).lower()
    if kind == "basic":
        token = base64.b64encode(f"{auth.get('username', '')}:{auth.get('password', '')}".encode()).decode()
        return f"Basic {token}"
    if kind == "raw":
        return str(auth.get("value", ""))
    if kind in ("", "none"):
        return None
    raise ActionFailure(
        "AuthenticationTypeNotSupported",
        f"HTTP authentication '{auth.get('type')}' is not "
        "supported yet; use Basic or Raw, or call the API through a connector and a connection.",
    )


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
    inputs = step.inputs()
    if not isinstance(inputs, Mapping) or not inputs.get("uri") or not inputs.get("method"):
        raise ActionFailure("InvalidTemplate", "The HTTP action needs inputs with 'method' and 'uri'.")
    method = str(inputs["method"]).upper()
    headers = {str(k): str(v) for k, v in (inputs.get("headers") or {}).items()}
    authorization = _authorization(inputs.get("authentication"))
    if authorization:
        headers["Authorization"] = authorization
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
    policy = RetryPolicy.from_definition(inputs.get("retryPolicy"))
    client = step.services.http_client()
    network = step.run.spec.network_policy
    extensions = {NETWORK_POLICY_EXTENSION: network} if network is not None else None

    async def send(url: str, verb: str, data: bytes | None, params: Mapping[str, str] | None) -> Reply:
        try:
            # httpx replaces the query written in the URI when given params, even empty ones.
            response = await client.request(
                verb, url, params=params or None, headers=headers, content=data, extensions=extensions
            )
        except httpx.InvalidURL as exc:
            raise ActionFailure("InvalidTemplate", f"The URI is not valid: {exc}") from exc
        except DestinationRefused as exc:
            raise ActionFailure(
                "DestinationRefused",
                f"{exc.message}. An environment admin can allow it in the environment's 'network_allow' "
                "setting (PUT /api/v1/environments/{env}/settings).",
            ) from exc
        return response.status_code, dict(response.headers), decode_body(response)

    status, answer_headers, answer = await send_with_retries(
        step, policy, lambda: send(str(inputs["uri"]), method, content, queries)
    )
    if "disableasyncpattern" not in str(step.raw.get("operationOptions", "")).lower():
        while status == 202 and header(answer_headers, "Location"):
            location = str(header(answer_headers, "Location"))
            delay = header(answer_headers, "Retry-After")
            await step.sleep(float(delay) if delay and delay.isdigit() else step.services.async_poll_interval)
            status, answer_headers, answer = await send_with_retries(
                step, policy, lambda url=location: send(url, "GET", None, None)
            )
    shown = {k: v for k, v in inputs.items() if k != "retryPolicy"}
    shown["headers"] = headers
    return http_outcome(status, answer_headers, answer, shown)
