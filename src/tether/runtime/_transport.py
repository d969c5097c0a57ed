"""The pipeline's last stage: rate limit, SSRF pre-check, send, retry, follow redirects.

``Transport`` is a ``Send`` (``await transport(exchange)``): policies and custom code call it
as the next stage, tests call it directly. It returns the upstream response *unread* (a
stream), so a large download never sits in memory; whoever consumes it reads or closes it.

What it decides, and where the rules live:
- the per-connection budget (``_ratelimit.py``): exceeded ⇒ ``RateLimited``, nothing sent;
- retries (``_retry.py``): bad statuses are decisions, not exceptions;
- redirects: followed here, not by httpx, so each hop is checked by the network policy
  and credentials are not sent to another origin (``_credentials.py``: a request to another
  origin is rebuilt without any, and auth schemes only ever write into a copy);
- one overall deadline per call (``deadline``): attempts, backoff waits and redirects all fit
  in it; running out is ``UpstreamTimeout`` naming the API's host and the deadline;
- httpx exceptions become Tether's (``UpstreamTimeout``, ``UpstreamUnavailable``...) here,
  chained with ``from``, so none leaves the runtime.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

import httpx

from tether import telemetry
from tether.auth import NoAuth
from tether.errors import ConfigurationError
from tether.runtime._credentials import form_without_credentials, same_origin, without_credentials
from tether.runtime._errors import (
    RateLimited,
    UpstreamError,
    UpstreamProtocolError,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from tether.runtime._gateway import GatewayDoor
from tether.runtime._http import NETWORK_POLICY_EXTENSION, send_one_hop
from tether.runtime._pipeline import ConnectionContext, Exchange
from tether.runtime._ratelimit import NO_RATE_LIMIT, RateLimiter
from tether.runtime._redact import Redactor, is_secret_name
from tether.runtime._retry import DEFAULT_RETRY, ResponseAction, RetryPolicy
from tether.runtime._ssrf import DEFAULT_NETWORK_POLICY, NetworkPolicy

__all__ = [
    "BUDGET_EXTENSION",
    "DEADLINE_EXTENSION",
    "DEFAULT_DEADLINE",
    "DEFAULT_MAX_REDIRECTS",
    "DEFAULT_TIMEOUT",
    "OMIT_CREDENTIALS_EXTENSION",
    "RetryHook",
    "RetryNote",
    "Transport",
    "connection_secrets",
    "translate_error",
]

logger = logging.getLogger("tether.runtime")

DEFAULT_TIMEOUT = httpx.Timeout(120.0)
DEFAULT_MAX_REDIRECTS = 10
# One call's whole budget: attempts, waits between them, redirects (REFERENCE.md §7: outbound
# synchronous requests end at 120 s). Clients of the Tether API wait longer than this.
DEFAULT_DEADLINE: Final = 120.0
# A monotonic time (``time.monotonic()``) by which a request and all its retries must be done;
# set by the transport when missing, set by a caller to share one deadline across sends.
DEADLINE_EXTENSION = "tether.deadline"
# The seconds the call had when its deadline was set (for the message when it runs out).
BUDGET_EXTENSION = "tether.deadline_budget"
_ANONYMOUS = ConnectionContext()
# Set on a request (``request.extensions``) that must go without the connection's credentials:
# a nextLink or async Location on another origin than the operation's.
OMIT_CREDENTIALS_EXTENSION = "tether.omit_credentials"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Failures where the request cannot have reached the server: safe to repeat for any method.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Transports made without a door have no relay: a gateway call through them is refused clearly.
_NO_GATEWAY = GatewayDoor()

Sleep = Callable[[float], Awaitable[Any]]


def connection_secrets(connection: ConnectionContext) -> list[str]:
    """Connection parameter values that must never be logged (by the parameter's name)."""
    return [
        str(v) for k, v in connection.parameters.items() if is_secret_name(k) and isinstance(v, str | int)
    ]


class Transport:
    """Sends an exchange's request upstream with the runtime's rules (see the module docstring).

    ``deadline`` (seconds) bounds one whole call: every attempt, every wait between attempts and
    every redirect; a request may carry an earlier end in its ``DEADLINE_EXTENSION`` (a
    monotonic time), which is how a caller makes one deadline cover several sends (202 polls).
    ``check_destination``, when given, sees the URL of every hop (redirects included) before it is
    sent and raises to refuse it: a caller's own rule, such as a data policy's Http host rules.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        retry: RetryPolicy = DEFAULT_RETRY,
        rate_limiter: RateLimiter = NO_RATE_LIMIT,
        network_policy: NetworkPolicy = DEFAULT_NETWORK_POLICY,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        max_redirects: int = DEFAULT_MAX_REDIRECTS,
        sleep: Sleep = asyncio.sleep,
        deadline: float = DEFAULT_DEADLINE,
        on_retry: RetryHook | None = None,
        check_destination: Callable[[httpx.URL], None] | None = None,
        gateway: GatewayDoor = _NO_GATEWAY,
    ) -> None:
        if deadline <= 0:
            raise ConfigurationError("a transport's deadline must be a positive number of seconds")
        self.client = client
        self.retry = retry
        self.rate_limiter = rate_limiter
        self.network_policy = network_policy
        self.timeout = timeout
        self.max_redirects = max_redirects
        self.sleep = sleep
        self.deadline = deadline
        self.on_retry = on_retry
        self.check_destination = check_destination
        self.gateway = gateway

    async def __call__(self, exchange: Exchange) -> httpx.Response:
        return await self.send(exchange.request, exchange.connection)

    async def send(
        self, request: httpx.Request, connection: ConnectionContext = _ANONYMOUS
    ) -> httpx.Response:
        """Send ``request`` with ``connection``'s credentials (on its origin only); the answer unread."""
        secrets = connection_secrets(connection)
        redactor = Redactor(secrets)
        ends = request.extensions.get(DEADLINE_EXTENSION)
        if ends is None:
            ends = time.monotonic() + self.deadline
            request.extensions[DEADLINE_EXTENSION] = ends
        request.extensions.setdefault(BUDGET_EXTENSION, max(0.0, ends - time.monotonic()))
        credentials = not request.extensions.get(OMIT_CREDENTIALS_EXTENSION)
        if not credentials:
            request = _rebuilt(request, secrets)
        for _hop in range(self.max_redirects + 1):
            if self.check_destination is not None:
                self.check_destination(request.url)
            response = await self._send(connection, request, credentials, redactor, ends)
            location = response.headers.get("location")
            if response.status_code not in _REDIRECTS or not location:
                return response
            await response.aclose()
            next_request = _redirect(request, response.status_code, location)
            if next_request.url.scheme != request.url.scheme and next_request.url.scheme == "http":
                raise UpstreamProtocolError(
                    f"refusing a redirect from https to {redactor.url(next_request.url)}"
                )
            if not same_origin(next_request.url, request.url):
                # Like browsers, only stricter: nothing that authenticates travels to another origin.
                credentials = False
                next_request = _rebuilt(next_request, secrets)
            request = next_request
        raise UpstreamProtocolError(
            f"more than {self.max_redirects} redirects, last to {redactor.url(request.url)}",
            detail={"max_redirects": self.max_redirects},
        )

    async def _send(
        self,
        connection: ConnectionContext,
        request: httpx.Request,
        credentials: bool,
        redactor: Redactor,
        ends: float,
    ) -> httpx.Response:
        gateway = connection.gateway
        if gateway is None:
            # Through a gateway the address is private by design: the agent's allowlist decides.
            self.network_policy.check_url(request.url.scheme, request.url.host)
        limits = request.extensions.get("timeout") or self.timeout.as_dict()
        request.extensions[NETWORK_POLICY_EXTENSION] = self.network_policy
        replayable = _replayable(request)
        auth = connection.auth if credentials else None
        attempt = 0
        while True:
            attempt += 1
            wait = self.rate_limiter.acquire(connection.connection_id)
            if wait is not None:
                raise RateLimited(
                    f"connection {connection.connection_id!r} is over its request limit; "
                    f"retry in {wait:.1f}s",
                    retry_after=round(wait, 3),
                    detail={"connection_id": connection.connection_id},
                )
            remaining = ends - time.monotonic()
            if remaining <= 0:
                raise self._late(request, attempt - 1)
            request.extensions["timeout"] = _within(limits, remaining)
            # The auth scheme writes into the request it is given: give it a copy, so a redirect
            # or a retry starts again from the request as the pipeline built it (NoAuth writes nothing).
            writes = auth is not None and not isinstance(auth, NoAuth)
            wire = _copy(request, replayable) if writes else request
            started = time.perf_counter()
            try:
                # The host and method only: the path and query may carry ids and keys of the API's.
                with _outbound_span(request, attempt) as span:
                    async with asyncio.timeout(remaining):
                        if gateway is not None:
                            response = await self.gateway.send(
                                gateway, wire, credentials=credentials, timeout=remaining
                            )
                        else:
                            response = await send_one_hop(self.client, wire, auth)
                    span.set("http.response.status_code", response.status_code)
            except (httpx.HTTPError, TimeoutError) as exc:
                failure = exc if isinstance(exc, httpx.HTTPError) else httpx.ReadTimeout("", request=request)
                resolution = self.retry.resolve_failure(
                    request.method,
                    attempt if replayable else self.retry.max_attempts,
                    sent=not isinstance(failure, _NOT_SENT),
                )
                outcome = f"failed: {type(failure).__name__}"
                _log(logging.WARNING, request, redactor, outcome, started, attempt)
                late = time.monotonic() + resolution.delay >= ends
                if late and isinstance(failure, httpx.TimeoutException):
                    raise self._late(request, attempt) from exc
                if resolution.action is not ResponseAction.RETRY or late:
                    raise translate_error(failure, request, redactor) from exc
                self._retrying(request, attempt, resolution.delay, None, type(failure).__name__)
                await self.sleep(resolution.delay)
                continue
            resolution = self.retry.resolve(
                request.method,
                response.status_code,
                attempt if replayable else self.retry.max_attempts,
                response.headers.get("retry-after"),
            )
            _log(logging.INFO, request, redactor, str(response.status_code), started, attempt)
            if resolution.action is not ResponseAction.RETRY:
                return response
            if time.monotonic() + resolution.delay >= ends:
                return response  # no time left to wait for a better answer: this one is the answer
            await response.aclose()
            self._retrying(request, attempt, resolution.delay, response.status_code, None)
            await self.sleep(resolution.delay)

    def _retrying(
        self, request: httpx.Request, attempt: int, delay: float, status: int | None, error: str | None
    ) -> None:
        if self.on_retry is not None:
            self.on_retry(RetryNote(request.method, attempt, delay, status, error))

    def _late(self, request: httpx.Request, attempts: int) -> UpstreamTimeout:
        host = request.url.host
        budget = round(float(request.extensions.get(BUDGET_EXTENSION, self.deadline)), 1)
        return UpstreamTimeout(
            f"the API at {host} did not answer within {budget:g} s ({attempts} attempt(s))",
            detail={"host": host, "deadline": budget, "attempts": attempts},
        )


@dataclass(frozen=True, slots=True)
class RetryNote:
    """One retry about to happen: for a caller that keeps a retry history (the flow Http action)."""

    method: str
    attempt: int
    delay: float
    status: int | None
    error: str | None


RetryHook = Callable[[RetryNote], None]


def _outbound_span(request: httpx.Request, attempt: int) -> telemetry.SpanHandle:
    if not telemetry.tracing():
        return telemetry.NO_SPAN
    url = request.url
    return telemetry.span(
        f"{request.method} {url.host}",
        {
            "http.request.method": request.method,
            "server.address": url.host,
            "server.port": url.port or (443 if url.scheme == "https" else 80),
            "url.scheme": url.scheme,
            "http.request.resend_count": attempt - 1 or None,
        },
    )


def _within(limits: dict[str, float | None], remaining: float) -> dict[str, float | None]:
    """The per-phase timeouts, none longer than what is left of the call's deadline."""
    return {k: remaining if v is None else min(v, remaining) for k, v in limits.items()}


def _copy(request: httpx.Request, replayable: bool) -> httpx.Request:
    copy = httpx.Request(
        request.method, request.url, headers=request.headers, extensions=dict(request.extensions)
    )
    copy.stream = request.stream
    if replayable:
        copy._content = request.content  # in memory already; no second read
    return copy


def _rebuilt(request: httpx.Request, secrets: list[str]) -> httpx.Request:
    """``request`` without credentials (see ``_credentials.py``), same method, body and extensions."""
    url, headers = without_credentials(request.url, request.headers, secrets)
    headers["host"] = url.netloc.decode("ascii")
    if not _replayable(request):
        rebuilt = httpx.Request(request.method, url, headers=headers, extensions=request.extensions)
        rebuilt.stream = request.stream
        return rebuilt
    content = request.content
    if content and "x-www-form-urlencoded" in headers.get("content-type", ""):
        content = form_without_credentials(content, secrets)
        headers.pop("content-length", None)
    return httpx.Request(request.method, url, headers=headers, content=content, extensions=request.extensions)


def _log(
    level: int, request: httpx.Request, redactor: Redactor, outcome: str, started: float, attempt: int
) -> None:
    if not logger.isEnabledFor(level):
        return
    elapsed = (time.perf_counter() - started) * 1000
    logger.log(
        level,
        "%s %s -> %s (%.1f ms, attempt %d)",
        request.method,
        redactor.url(request.url),
        outcome,
        elapsed,
        attempt,
    )
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug("request headers: %s", redactor.headers(request.headers))


def _replayable(request: httpx.Request) -> bool:
    """A body already in memory can be sent again; a streamed upload cannot."""
    try:
        request.content  # noqa: B018  # raises when the body is a stream not yet read
    except httpx.RequestNotRead:
        return False
    return True


def _redirect(request: httpx.Request, status: int, location: str) -> httpx.Request:
    try:
        url = request.url.join(location)
    except httpx.InvalidURL as exc:
        raise UpstreamProtocolError(f"the upstream API redirected to an invalid URL: {exc}") from exc
    method = request.method
    # 303 always, and 301/302 for POST, become GET without a body (what every client does).
    if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
        method = "GET"
    headers = httpx.Headers(request.headers)
    if method != request.method:
        for name in ("content-type", "content-length", "transfer-encoding"):
            headers.pop(name, None)
        content = None
    else:
        content = (request.content or None) if _replayable(request) else None
    headers["host"] = url.netloc.decode("ascii")
    if content is None:
        headers.pop("content-length", None)
    extensions = {k: v for k, v in request.extensions.items() if k != NETWORK_POLICY_EXTENSION}
    return httpx.Request(method, url, headers=headers, content=content, extensions=extensions)


def translate_error(exc: httpx.HTTPError, request: httpx.Request, redactor: Redactor) -> UpstreamError:
    """The Tether error for an httpx exception (the caller raises it ``from exc``)."""
    target = f"{request.method} {redactor.url(request.url)}"
    if isinstance(exc, httpx.TimeoutException):
        return UpstreamTimeout(f"{target}: no answer in time ({type(exc).__name__})")
    if isinstance(exc, httpx.ConnectError | httpx.NetworkError | httpx.RemoteProtocolError):
        return UpstreamUnavailable(
            f"{target}: cannot reach the API ({redactor.text(str(exc)) or type(exc).__name__})"
        )
    if isinstance(exc, httpx.DecodingError):
        return UpstreamProtocolError(
            f"{target}: the response body cannot be decoded ({redactor.text(str(exc))})"
        )
    return UpstreamError(f"{target}: {type(exc).__name__}: {redactor.text(str(exc))}")
