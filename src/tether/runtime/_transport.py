"""The pipeline's last stage: rate limit, SSRF pre-check, send, retry, follow redirects.

``Transport`` is a ``Send`` (``await transport(exchange)``): policies and custom code call it
as the next stage, tests call it directly. It returns the upstream response *unread* (a
stream), so a large download never sits in memory; whoever consumes it reads or closes it.

What it decides, and where the rules live:
- the per-connection budget (``_ratelimit.py``): exceeded ⇒ ``RateLimited``, nothing sent;
- retries (``_retry.py``): bad statuses are decisions, not exceptions;
- redirects: followed here, not by httpx, so each hop is checked by the network policy
  and credentials are not sent to another origin;
- httpx exceptions become Tether's (``UpstreamTimeout``, ``UpstreamUnavailable``...) here,
  chained with ``from``, so none leaves the runtime.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tether.runtime._errors import (
    RateLimited,
    UpstreamError,
    UpstreamProtocolError,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from tether.runtime._http import NETWORK_POLICY_EXTENSION
from tether.runtime._pipeline import ConnectionContext, Exchange
from tether.runtime._ratelimit import NO_RATE_LIMIT, RateLimiter
from tether.runtime._redact import Redactor, is_secret_name
from tether.runtime._retry import DEFAULT_RETRY, ResponseAction, RetryPolicy
from tether.runtime._ssrf import DEFAULT_NETWORK_POLICY, NetworkPolicy

__all__ = [
    "DEFAULT_MAX_REDIRECTS",
    "DEFAULT_TIMEOUT",
    "OMIT_CREDENTIALS_EXTENSION",
    "Transport",
    "connection_secrets",
    "translate_error",
]

logger = logging.getLogger("tether.runtime")

DEFAULT_TIMEOUT = httpx.Timeout(120.0)
DEFAULT_MAX_REDIRECTS = 10
# Set on a request (``request.extensions``) that must go without the connection's credentials:
# a nextLink or async Location on another origin than the operation's.
OMIT_CREDENTIALS_EXTENSION = "tether.omit_credentials"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Failures where the request cannot have reached the server: safe to repeat for any method.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

Sleep = Callable[[float], Awaitable[Any]]


def connection_secrets(connection: ConnectionContext) -> list[str]:
    """Connection parameter values that must never be logged (by the parameter's name)."""
    return [
        str(v) for k, v in connection.parameters.items() if is_secret_name(k) and isinstance(v, str | int)
    ]


class Transport:
    """Sends an exchange's request upstream with the runtime's rules (see the module docstring)."""

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
    ) -> None:
        self.client = client
        self.retry = retry
        self.rate_limiter = rate_limiter
        self.network_policy = network_policy
        self.timeout = timeout
        self.max_redirects = max_redirects
        self.sleep = sleep

    async def __call__(self, exchange: Exchange) -> httpx.Response:
        redactor = Redactor(connection_secrets(exchange.connection))
        request = exchange.request
        credentials = not request.extensions.get(OMIT_CREDENTIALS_EXTENSION)
        for _hop in range(self.max_redirects + 1):
            response = await self._send(exchange.connection, request, credentials, redactor)
            location = response.headers.get("location")
            if response.status_code not in _REDIRECTS or not location:
                return response
            await response.aclose()
            next_request = _redirect(request, response.status_code, location)
            if next_request.url.scheme != request.url.scheme and next_request.url.scheme == "http":
                raise UpstreamProtocolError(
                    f"refusing a redirect from https to {redactor.url(next_request.url)}"
                )
            if _origin(next_request.url) != _origin(request.url):
                credentials = False  # like httpx and browsers: credentials stay with their origin
            request = next_request
        raise UpstreamProtocolError(
            f"more than {self.max_redirects} redirects, last to {redactor.url(request.url)}",
            detail={"max_redirects": self.max_redirects},
        )

    async def _send(
        self, connection: ConnectionContext, request: httpx.Request, credentials: bool, redactor: Redactor
    ) -> httpx.Response:
        self.network_policy.check_url(request.url.scheme, request.url.host)
        request.extensions.setdefault("timeout", self.timeout.as_dict())
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
            started = time.perf_counter()
            try:
                response = await self.client.send(request, auth=auth, follow_redirects=False, stream=True)
            except httpx.HTTPError as exc:
                resolution = self.retry.resolve_failure(
                    request.method,
                    attempt if replayable else self.retry.max_attempts,
                    sent=not isinstance(exc, _NOT_SENT),
                )
                _log(logging.WARNING, request, redactor, f"failed: {type(exc).__name__}", started, attempt)
                if resolution.action is not ResponseAction.RETRY:
                    raise translate_error(exc, request, redactor) from exc
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
            await response.aclose()
            await self.sleep(resolution.delay)


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


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port


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
    if _origin(url) != _origin(request.url):
        headers.pop("authorization", None)
        headers.pop("cookie", None)
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
