"""Invoke one operation of a connector through a connection: the use case behind the invoke endpoint.

    invoke_operation ─ prepare (thread: permission, compiled revision, credentials, network policy)
                     └ Runtime.invoke with policies → custom code → SOAP → transport
                     ⇒ InvokeAnswer (status, headers, body, warnings)

Credentials are decrypted for the call only and never leave it: the answer holds what the API
returned, and errors carry the runtime's redacted messages.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import httpx

from tether import telemetry
from tether.errors import TetherError
from tether.runtime import RequestExtras, StreamedBody
from tether.secrets import KeyRing
from tether.services._access import Principal
from tether.services._builtin_dispatch import run_builtin
from tether.services._connection_call import PreparedCall, guarded, prepare_call
from tether.services._connector_runner import ConnectorRunner
from tether.services._request_view import RequestObserver
from tether.store import Database

__all__ = [
    "HOP_BY_HOP",
    "InvokeAnswer",
    "answer_headers",
    "invoke_operation",
    "run_operation",
]

# Headers that describe one hop, not the message (RFC 9110 7.6.1), plus what the body's re-encoding changes.
HOP_BY_HOP: Final = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
_REWRITTEN: Final = frozenset({"content-length", "content-encoding"})


@dataclass(frozen=True)
class InvokeAnswer:
    """What the API answered: ``body`` is parsed JSON, text, or ``bytes`` for binary content.

    ``headers`` are the upstream's, without hop-by-hop headers and those that described the
    wire encoding of the body (it was decoded). ``warnings`` say what was odd but not fatal.
    """

    status: int
    headers: dict[str, str]
    body: Any
    content_type: str = ""
    warnings: list[str] = field(default_factory=list)


async def invoke_operation(
    db: Database,
    principal: Principal,
    environment: str,
    connection: str,
    operation_id: str,
    arguments: Mapping[str, Any] | None = None,
    *,
    runtime: ConnectorRunner,
    keyring: KeyRing,
    public_url: str = "",
    observe: Callable[[str], None] | None = None,
) -> InvokeAnswer:
    """Call ``operation_id`` through ``connection`` (its owner only) with ``arguments`` by parameter name.

    The connector's current revision runs, with its policies, ``script.py`` and SOAP facts; the
    environment's network policy applies. Raises the runtime's errors (``ArgumentError``,
    ``RateLimited``, ``DestinationRefused``, ``UpstreamError``...) and ``ConnectionNeedsAttention``.
    ``public_url`` is accepted for symmetry with the connection services (OAuth re-consent links).
    ``observe`` receives the outgoing request as text, secrets masked (the portal's Test tab).
    """
    call = await prepare_call(db, principal, environment, connection, keyring=keyring, runtime=runtime)
    return await run_operation(db, call, operation_id, arguments or {}, runtime=runtime, observe=observe)


async def run_operation(
    db: Database,
    call: PreparedCall,
    operation_id: str,
    arguments: Mapping[str, Any],
    *,
    runtime: ConnectorRunner,
    extras: RequestExtras | None = None,
    observe: Callable[[str], None] | None = None,
) -> InvokeAnswer:
    """Run a prepared call through the runtime and read its answer (also used by flows).

    A built-in connector's operation runs in process instead (see ``_builtin_dispatch``).
    """
    if call.builtin is not None:

        async def run_in_process() -> InvokeAnswer:
            answer = await run_builtin(db, call, operation_id, arguments)
            return InvokeAnswer(answer.status, {}, answer.body, "application/json")

        return await guarded(db, call, run_in_process)
    stages = runtime.stages(
        call.compiled, script_isolation=call.script_isolation, script_owner=call.script_owner
    )
    if extras is not None and (extras.headers or extras.query):
        stages.insert(0, extras)
    if observe is not None:
        stages.append(RequestObserver(observe))  # last: it sees what the transport will send

    async def send() -> InvokeAnswer:
        result = await runtime.runtime.invoke(
            call.compiled.api,
            operation_id,
            arguments,
            connection=call.connection,
            stages=stages,
            network_policy=call.network,
            async_pattern=extras.async_pattern if extras is not None else True,
            deadline=extras.deadline if extras is not None else None,
        )
        body = result.body
        if isinstance(body, StreamedBody):
            body = await body.aread()  # the JSON answer needs it whole; the /apim route streams instead
        return InvokeAnswer(
            status=result.status,
            headers=answer_headers(result.headers),
            body=body,
            content_type=result.content_type,
            warnings=list(result.warnings),
        )

    connector = call.compiled.connector_id
    attributes: dict[str, str | int | float | bool | None] = {
        "tether.connector_id": connector,
        "tether.connection_id": call.connection_id,
        "tether.operation_id": operation_id,
        "tether.environment": call.environment,
    }
    with telemetry.span("services.invoke", attributes) as span:
        try:
            answer = await guarded(db, call, send)
        except TetherError as exc:
            telemetry.count_invoke(connector, exc.code)
            raise
        span.set("http.response.status_code", answer.status)
        telemetry.count_invoke(connector, answer.status)
        return answer


def answer_headers(headers: httpx.Headers) -> dict[str, str]:
    """Upstream headers fit to hand on: no hop-by-hop headers, none describing the wire encoding."""
    return {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP and k.lower() not in _REWRITTEN}
