"""The custom-code stage: hand the call to ``script.py`` for the operations it covers."""

from __future__ import annotations

from collections.abc import Iterable

import httpx

from tether.runtime._pipeline import Exchange, Send
from tether.runtime.script._base import ScriptRequest, ScriptResponse
from tether.runtime.script._errors import ScriptTooLarge
from tether.runtime.script._pool import DEFAULT_LIMITS, ScriptLimits, ScriptPool

__all__ = ["ScriptStage", "build_script_stage", "check_script_size"]

# Headers httpx computes from the body; a script's edited body needs them recomputed.
_BODY_HEADERS = ("content-length", "transfer-encoding", "content-encoding")


class ScriptStage:
    """Runs the connector's script for covered operations; others pass straight through.

    The script replaces the call: what it sends goes to the rest of the pipeline (the
    transport), and what it returns is the answer.
    """

    def __init__(
        self,
        source: str,
        operations: frozenset[str] | None,
        pool: ScriptPool,
        *,
        isolation_key: str | None = None,
        owner: str | None = None,
    ) -> None:
        self.source = source
        self.operations = operations
        self.pool = pool
        self.isolation_key = isolation_key
        self.owner = owner

    def applies_to(self, operation_id: str) -> bool:
        """Whether the script handles ``operation_id`` (all operations when none are listed)."""
        return self.operations is None or operation_id in self.operations

    async def __call__(self, exchange: Exchange, send: Send) -> httpx.Response:
        if not self.applies_to(exchange.operation.operation_id):
            return await send(exchange)
        last_request = exchange.request

        async def send_from_script(request: ScriptRequest) -> ScriptResponse:
            nonlocal last_request
            last_request = _to_httpx(request, exchange.request)
            response = await send(exchange.replace(request=last_request))
            await response.aread()
            return ScriptResponse(response.status_code, dict(response.headers), response.content)

        result = await self.pool.run(
            self.source,
            _from_httpx(exchange.request),
            send_from_script,
            operation_id=exchange.operation.operation_id,
            correlation_id=exchange.correlation_id,
            isolation_key=self.isolation_key,
            owner=self.owner,
        )
        headers = httpx.Headers(result.headers)
        for name in _BODY_HEADERS:
            headers.pop(name, None)
        return httpx.Response(
            result.status_code, headers=headers, content=result.content, request=last_request
        )

    async def aclose(self) -> None:
        """Stop the stage's workers."""
        await self.pool.aclose()


def check_script_size(source: str | bytes, limits: ScriptLimits = DEFAULT_LIMITS) -> str:
    """The script as text, or ``ScriptTooLarge`` when it exceeds ``limits.max_size`` bytes."""
    data = source.encode("utf-8") if isinstance(source, str) else source
    if len(data) > limits.max_size:
        raise ScriptTooLarge(
            f"the script is {len(data):,} bytes; the limit is {limits.max_size:,} bytes",
            detail={"size": len(data), "limit": limits.max_size},
        )
    return data.decode("utf-8-sig", errors="replace") if isinstance(source, bytes) else source


def build_script_stage(
    package_script: str | bytes,
    script_operations: Iterable[str] | None = None,
    *,
    pool: ScriptPool | None = None,
    limits: ScriptLimits = DEFAULT_LIMITS,
    isolation_key: str | None = None,
    owner: str | None = None,
) -> ScriptStage:
    """A stage running ``package_script`` for ``script_operations`` (absent or empty ⇒ all).

    The size limit is checked here, before anything runs. Pass a shared ``pool`` to share its
    slots across connectors; otherwise the stage owns a small one (close it with ``aclose``).
    A worker is reused only for calls with the same ``isolation_key`` (the server passes the
    connector and its owners; without one, only calls of the same script share), and
    ``owner`` names whose share of the pool's slots the calls take.
    """
    source = check_script_size(package_script, limits)
    operations = frozenset(script_operations or ()) or None
    return ScriptStage(
        source, operations, pool or ScriptPool(limits=limits), isolation_key=isolation_key, owner=owner
    )


def _from_httpx(request: httpx.Request) -> ScriptRequest:
    return ScriptRequest(request.method, str(request.url), dict(request.headers), request.content)


def _to_httpx(request: ScriptRequest, original: httpx.Request) -> httpx.Request:
    headers = httpx.Headers(request.headers)
    for name in _BODY_HEADERS:
        headers.pop(name, None)
    return httpx.Request(
        request.method, request.url, headers=headers, content=request.content, extensions=original.extensions
    )
