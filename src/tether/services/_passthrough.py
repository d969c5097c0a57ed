"""The ``/apim/{connector}/{connection}/{path}`` pass-through: the API's own paths, through a connection.

Power Platform lets apps call a connector as if it were the API (paths relative to the
connector's base path): the request is matched to an operation by method and path template, so
the operation's policies and custom code apply, the connection adds its credentials, and the
upstream answer comes back as it is (status, headers less hop-by-hop ones, body streamed). The
road is invoke's: the same pipeline and transport, one deadline for the call, the async pattern
(a 202 with a Location is polled to its final answer) and paging (a pageable operation's pages
merged into one answer), as ``invoke`` does.
Arguments are not checked against the definition here: the caller speaks the API's own
language; only the path must be one of its operations.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import parse_qsl

import httpx

from tether.runtime import DEADLINE_EXTENSION, Exchange, build_pipeline, new_correlation_id, wants_polling
from tether.secrets import KeyRing
from tether.services._access import Principal
from tether.services._connection_call import guarded, prepare_call
from tether.services._connection_check import _base_url
from tether.services._connector_runner import ConnectorRunner
from tether.services._invoke import HOP_BY_HOP, answer_headers
from tether.store import Database

__all__ = ["PassThrough", "pass_through"]

# The caller's own credentials and connection details must not travel to the API.
_NOT_FORWARDED: Final = HOP_BY_HOP | {"host", "authorization", "cookie", "content-length", "accept-encoding"}


@dataclass
class PassThrough:
    """The upstream answer: iterate ``response.aiter_bytes()`` then ``await response.aclose()``."""

    status: int
    headers: dict[str, str]
    response: httpx.Response


async def pass_through(
    db: Database,
    principal: Principal,
    connector: str,
    connection: str,
    method: str,
    path: str,
    *,
    query: str = "",
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
    runtime: ConnectorRunner,
    keyring: KeyRing,
) -> PassThrough:
    """Send ``method path?query`` with ``headers`` and ``body`` through ``connection`` (its owner only).

    Raises ``NotFound`` for a path that is no operation of the connector (with the methods it
    allows, when only the method is wrong), and the runtime's errors as ``invoke_operation`` does.
    """
    call = await prepare_call(
        db, principal, None, connection, keyring=keyring, runtime=runtime, connector=connector
    )
    operation, path_values = call.compiled.match(method, path)
    url = _base_url(call.compiled.api) + "/" + path.lstrip("/") + (f"?{query}" if query else "")
    forwarded = {k: v for k, v in (headers or {}).items() if k.lower() not in _NOT_FORWARDED}
    request = httpx.Request(method.upper(), url, headers=forwarded, content=body)
    arguments = {**dict(parse_qsl(query, keep_blank_values=True)), **path_values}
    stages = runtime.stages(
        call.compiled, script_isolation=call.script_isolation, script_owner=call.script_owner
    )
    send = build_pipeline(stages, runtime.runtime.transport(call.network))
    exchange = Exchange(
        api=call.compiled.api,
        operation=operation,
        connection=call.connection,
        request=request,
        arguments=arguments,
        correlation_id=new_correlation_id(),
    )
    road = runtime.runtime
    request.extensions[DEADLINE_EXTENSION] = time.monotonic() + road.deadline

    async def answer() -> httpx.Response:
        response = await send(exchange)
        if wants_polling(response):
            response, _polls = await road.poll(send, exchange, response)
        response, _pages = await road.merge_pages(send, exchange, response)
        return response

    response = await guarded(db, call, answer)
    return PassThrough(response.status_code, answer_headers(response.headers), response)
