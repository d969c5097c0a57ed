"""``Runtime.invoke``: one operation call, from arguments to a parsed result.

    arguments ─ check (_arguments) ─ build (_request) ─ stages… ─ Transport ─ upstream
                                                                     │
    InvokeResult ◀─ schema warnings ◀─ pages (_paging) ◀─ body (_response) ◀─ polls (_async_pattern)

``Runtime`` owns the pooled HTTP client, so create one per process (or per worker) and
share it; it is an async context manager (``aclose()``). Policies and custom code come in
as ``stages`` (see ``_pipeline.py``). Follow-up requests (polls, next pages) go through
the same stages, as GETs; one to another origin goes without the connection's credentials.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import httpx

from tether import telemetry
from tether.definition import Api
from tether.errors import ConfigurationError
from tether.runtime._arguments import prepare_arguments
from tether.runtime._async_pattern import DEFAULT_ASYNC_PATTERN, AsyncPattern, poll_flow, wants_polling
from tether.runtime._body import is_json
from tether.runtime._credentials import same_origin
from tether.runtime._gateway import GatewayDoor
from tether.runtime._http import (
    DEFAULT_LIMITS,
    EAGER_BODY_BYTES,
    EAGER_BODY_EXTENSION,
    GuardedTransport,
    shared_client,
)
from tether.runtime._paging import DEFAULT_PAGING, Paging, follow_pages
from tether.runtime._pipeline import ConnectionContext, Exchange, Send, Stage, build_pipeline
from tether.runtime._ratelimit import DEFAULT_RATE_LIMIT, NO_RATE_LIMIT, RateLimit, RateLimiter
from tether.runtime._redact import install_log_redaction, redacting
from tether.runtime._request import build_request
from tether.runtime._response import (
    DEFAULT_MAX_BUFFERED_BYTES,
    StreamedBody,
    read_body,
    response_schema,
    schema_warnings,
)
from tether.runtime._retry import DEFAULT_RETRY, RetryPolicy
from tether.runtime._road import RoadTransport
from tether.runtime._schema import SchemaChecker
from tether.runtime._ssrf import DEFAULT_NETWORK_POLICY, HostResolver, NetworkPolicy
from tether.runtime._transport import (
    BUDGET_EXTENSION,
    DEADLINE_EXTENSION,
    DEFAULT_DEADLINE,
    DEFAULT_TIMEOUT,
    OMIT_CREDENTIALS_EXTENSION,
    Transport,
    connection_secrets,
)

__all__ = ["InvokeResult", "Runtime", "follow_up", "invoke_sync", "new_correlation_id"]

ANONYMOUS = ConnectionContext()
_FOLLOW_UP_DROPPED = ("content-type", "content-length", "transfer-encoding", "host")
# Framing of an upstream body that a re-encoded (merged, decoded) body no longer has.
_REFRAMED = frozenset({"content-length", "content-encoding", "transfer-encoding"})


@dataclass
class InvokeResult:
    """What a call returned: status, headers, body (parsed, bytes or a ``StreamedBody``), and notes.

    ``pages`` counts the pages merged (1 without paging), ``polls`` the async-pattern polls;
    ``warnings`` say what was odd but not fatal (schema differences, paging stopped early).
    A ``StreamedBody`` must be consumed or closed (``await result.aclose()``).
    """

    status: int
    headers: httpx.Headers
    body: Any
    content_type: str = ""
    pages: int = 1
    polls: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    async def aclose(self) -> None:
        if isinstance(self.body, StreamedBody):
            await self.body.aclose()


class Runtime:
    """Executes operations of compiled APIs; holds the connection pool and the runtime's limits.

    Example::

        async with Runtime(network_policy=NetworkPolicy(allow_loopback=True)) as runtime:
            result = await runtime.invoke(api, "Put", {"body": {...}}, connection=ConnectionContext(
                base_url="http://127.0.0.1:2379"))

    ``transport`` replaces the network (tests pass ``httpx.MockTransport``); ``rate_limit`` is
    a ``RateLimit``, any ``RateLimiter`` (shared, e.g. Redis-backed), or None for no limit.
    """

    def __init__(
        self,
        *,
        network_policy: NetworkPolicy = DEFAULT_NETWORK_POLICY,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retry: RetryPolicy = DEFAULT_RETRY,
        rate_limit: RateLimit | RateLimiter | None = DEFAULT_RATE_LIMIT,
        paging: Paging = DEFAULT_PAGING,
        async_pattern: AsyncPattern = DEFAULT_ASYNC_PATTERN,
        max_buffered_bytes: int = DEFAULT_MAX_BUFFERED_BYTES,
        check_responses: bool = True,
        limits: httpx.Limits = DEFAULT_LIMITS,
        resolver: HostResolver | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        deadline: float = DEFAULT_DEADLINE,
    ) -> None:
        install_log_redaction()
        if deadline <= 0:
            raise ConfigurationError("the runtime's deadline must be a positive number of seconds")
        self.deadline = deadline
        self.network_policy = network_policy
        self.timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self.retry = retry
        self.rate_limiter: RateLimiter = (
            NO_RATE_LIMIT
            if rate_limit is None
            else rate_limit.limiter()
            if isinstance(rate_limit, RateLimit)
            else rate_limit
        )
        self.paging = paging
        self.async_pattern = async_pattern
        self.max_buffered_bytes = max_buffered_bytes
        self.check_responses = check_responses
        self.sleep = sleep
        self.client = shared_client(
            transport or GuardedTransport(limits=limits, resolver=resolver), self.timeout
        )
        # Where gateway calls go: the process hosting the gateway relay sets ``gateway.relay``.
        self.gateway = GatewayDoor()
        self._transports: dict[NetworkPolicy, Transport] = {}
        self._clients: dict[NetworkPolicy, httpx.AsyncClient] = {}
        self._checkers = {False: SchemaChecker(), True: SchemaChecker(openapi31=True)}

    async def __aenter__(self) -> Runtime:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every pooled connection."""
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()
        await self.client.aclose()

    def transport(self, network_policy: NetworkPolicy | None = None) -> Transport:
        """The terminal stage for ``network_policy`` (the runtime's default when None)."""
        policy = network_policy or self.network_policy
        transport = self._transports.get(policy)
        if transport is None:
            transport = Transport(
                self.client,
                retry=self.retry,
                rate_limiter=self.rate_limiter,
                network_policy=policy,
                timeout=self.timeout,
                sleep=self.sleep,
                deadline=self.deadline,
                gateway=self.gateway,
            )
            self._transports[policy] = transport
        return transport

    def http_client(self, network_policy: NetworkPolicy | None = None) -> httpx.AsyncClient:
        """An ``httpx.AsyncClient`` whose every request goes through :meth:`transport` (no credentials).

        For callers that speak httpx rather than exchanges: OAuth token requests (authlib's client
        takes it), the connection test. The network policy, deadline, retries and redirect rules
        are the runtime's; the client keeps no cookies. Closed with the runtime.
        """
        policy = network_policy or self.network_policy
        client = self._clients.get(policy)
        if client is None:
            # Token and test requests are few and not the connection's calls: no rate limit here.
            transport = Transport(
                self.client,
                retry=self.retry,
                network_policy=policy,
                timeout=self.timeout,
                sleep=self.sleep,
                deadline=self.deadline,
            )
            client = shared_client(RoadTransport(transport), self.timeout)
            self._clients[policy] = client
        return client

    async def invoke(
        self,
        api: Api,
        operation_id: str,
        arguments: Mapping[str, Any] | None = None,
        *,
        connection: ConnectionContext = ANONYMOUS,
        stages: Sequence[Stage] = (),
        network_policy: NetworkPolicy | None = None,
        max_pages: int | None = None,
        max_items: int | None = None,
        async_pattern: bool = True,
        correlation_id: str = "",
        deadline: float | None = None,
    ) -> InvokeResult:
        """Call ``operation_id`` of ``api`` with ``arguments`` (by parameter name; ``body`` for the body).

        Raises ``ArgumentError`` (every bad argument listed) before sending anything,
        ``RateLimited``, ``DestinationRefused``, or an ``UpstreamError`` when there is no usable
        answer; an upstream error *status* is returned in the result, not raised. ``deadline``
        (seconds, default the runtime's) bounds the whole call: retries, redirects, 202 polls, pages.
        """
        operation = api.operation(operation_id)
        checker = self._checkers[api.spec_version.startswith("3.1")]
        arguments = arguments or {}
        prepared = prepare_arguments(operation, arguments, checker)
        request = build_request(api, operation, prepared, connection)
        request.extensions[BUDGET_EXTENSION] = deadline or self.deadline
        request.extensions[DEADLINE_EXTENSION] = time.monotonic() + (deadline or self.deadline)
        # A small answer is read whole anyway (read_body): the wire may read it before handing it on.
        request.extensions[EAGER_BODY_EXTENSION] = min(self.max_buffered_bytes, EAGER_BODY_BYTES)
        send = build_pipeline(stages, self.transport(network_policy))
        exchange = Exchange(
            api=api,
            operation=operation,
            connection=connection,
            request=request,
            arguments=arguments,
            correlation_id=correlation_id or new_correlation_id(),
        )
        with (
            redacting(connection_secrets(connection)),
            telemetry.span(
                "runtime.invoke", {"tether.operation_id": operation_id, "http.request.method": request.method}
            ) as span,
        ):
            response = await send(exchange)
            polls = 0
            if async_pattern and wants_polling(response):
                response, polls = await self.poll(send, exchange, response)
            content_type = response.headers.get("content-type", "")
            body, warnings = await read_body(
                response, max_buffered_bytes=self.max_buffered_bytes, method=request.method
            )
            pages = 1
            if operation.next_link_name and response.is_success and isinstance(body, dict):
                paging = Paging(max_pages or self.paging.max_pages, max_items or self.paging.max_items)
                item_name = _item_name(operation.extensions.get("x-ms-pageable"))
                paged = await self._pages(send, exchange, body, operation.next_link_name, paging, item_name)
                body, pages = paged.body, paged.pages
                warnings.extend(paged.warnings)
            span.set("http.response.status_code", response.status_code)
        if self.check_responses and (
            is_json(content_type or "application/json") or not isinstance(body, str)
        ):
            schema = response_schema(operation, response.status_code, content_type)
            warnings.extend(schema_warnings(checker, schema, body))
        return InvokeResult(
            status=response.status_code,
            headers=response.headers,
            body=body,
            content_type=content_type,
            pages=pages,
            polls=polls,
            warnings=warnings,
        )

    async def poll(
        self, send: Send, exchange: Exchange, response: httpx.Response
    ) -> tuple[httpx.Response, int]:
        """Follow the async pattern from ``response`` (a 202 with a Location) to the final answer.

        Polls go through ``send`` (the same stages) within the async pattern's bounds and the
        exchange's deadline (``DEADLINE_EXTENSION``), whichever ends first.
        """
        pattern = self.async_pattern
        ends = exchange.request.extensions.get(DEADLINE_EXTENSION)
        if ends is not None:
            left = max(0.001, ends - time.monotonic())
            if left < pattern.timeout:
                pattern = dataclasses.replace(pattern, timeout=left)
        flow = poll_flow(response, exchange.request.url, pattern, clock=time.monotonic)
        polls = 0
        await response.aclose()
        try:
            poll = next(flow)
            while True:
                await self.sleep(poll.delay)
                polls += 1
                answer = await send(exchange.replace(request=follow_up(exchange.request, poll.url)))
                if answer.status_code == 202:
                    await answer.aclose()
                poll = flow.send(answer)
        except StopIteration as done:
            return done.value, polls

    async def merge_pages(
        self, send: Send, exchange: Exchange, response: httpx.Response
    ) -> tuple[httpx.Response, int]:
        """A pageable operation's JSON answer with its next pages merged in, as ``invoke`` gives them.

        For callers that hand the answer on as HTTP (the ``/apim`` pass-through): the merged body
        comes back as a new response with the upstream's status and headers (less the framing
        ones). An answer too large to buffer is handed on as it is, unpaged.
        """
        operation = exchange.operation
        content_type = response.headers.get("content-type", "")
        if not operation.next_link_name or not response.is_success or not is_json(content_type):
            return response, 1
        body, _ = await read_body(
            response, max_buffered_bytes=self.max_buffered_bytes, method=exchange.request.method
        )
        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _REFRAMED]
        if isinstance(body, StreamedBody):
            return httpx.Response(response.status_code, headers=headers, stream=_Rest(body)), 1
        pages = 1
        if isinstance(body, dict):
            item_name = _item_name(operation.extensions.get("x-ms-pageable"))
            paged = await self._pages(send, exchange, body, operation.next_link_name, self.paging, item_name)
            body, pages = paged.body, paged.pages
        content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        return httpx.Response(response.status_code, headers=headers, content=content), pages

    async def _pages(
        self,
        send: Send,
        exchange: Exchange,
        body: dict[str, Any],
        link_name: str,
        paging: Paging,
        item_name: str,
    ) -> Any:
        flow = follow_pages(body, exchange.request.url, link_name, paging, item_name=item_name)
        try:
            url = next(flow)
            while True:
                answer = await send(exchange.replace(request=follow_up(exchange.request, url)))
                page, _ = await read_body(answer, max_buffered_bytes=self.max_buffered_bytes)
                if isinstance(page, StreamedBody):
                    await page.aclose()
                url = flow.send(page if answer.is_success else None)
        except StopIteration as done:
            return done.value


class _Rest(httpx.AsyncByteStream):
    """An unpaged large body handed on: iterated once; closing it closes the upstream response."""

    def __init__(self, body: StreamedBody) -> None:
        self._body = body

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._body:
            yield chunk

    async def aclose(self) -> None:
        await self._body.aclose()


def new_correlation_id() -> str:
    """A call's correlation id: 32 hex digits, as ``uuid4().hex`` gives, without its system call.

    It names a call in custom code's context and logs; it guards nothing, so a fast generator
    (reseeded in each forked process by the random module) serves.
    """
    return f"{random.getrandbits(128):032x}"


def _item_name(pageable: Any) -> str:
    name = pageable.get("itemName") if isinstance(pageable, dict) else None
    return name if isinstance(name, str) and name else "value"


def follow_up(original: httpx.Request, url: httpx.URL) -> httpx.Request:
    """A GET for a poll or a next page (of ``original``'s call), with its headers and deadline.

    On another origin the transport rebuilds it without credentials (``OMIT_CREDENTIALS_EXTENSION``).
    """
    headers = {k: v for k, v in original.headers.items() if k.lower() not in _FOLLOW_UP_DROPPED}
    extensions: dict[str, Any] = {}
    for name in (DEADLINE_EXTENSION, BUDGET_EXTENSION):
        if name in original.extensions:
            extensions[name] = original.extensions[name]
    if not same_origin(url, original.url):
        extensions[OMIT_CREDENTIALS_EXTENSION] = True
    return httpx.Request("GET", url, headers=headers, extensions=extensions)


def invoke_sync(
    api: Api,
    operation_id: str,
    arguments: Mapping[str, Any] | None = None,
    *,
    connection: ConnectionContext = ANONYMOUS,
    stages: Sequence[Stage] = (),
    network_policy: NetworkPolicy = DEFAULT_NETWORK_POLICY,
    **runtime_options: Any,
) -> InvokeResult:
    """``Runtime.invoke`` for scripts and notebooks: a one-off runtime, bodies fully read.

    Not for servers (a new connection pool per call) and not inside a running event loop.
    """

    async def run() -> InvokeResult:
        async with Runtime(network_policy=network_policy, **runtime_options) as runtime:
            result = await runtime.invoke(api, operation_id, arguments, connection=connection, stages=stages)
            if isinstance(result.body, StreamedBody):
                result.body = await result.body.aread()
            return result

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(run())
    raise ConfigurationError(
        "invoke_sync cannot run inside an event loop; use 'await Runtime(...).invoke(...)'"
    )
