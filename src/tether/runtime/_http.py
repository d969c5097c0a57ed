"""The httpx transport under the runtime: pooled connections opened through the SSRF guard.

httpx's own ``AsyncHTTPTransport`` does not let us choose httpcore's network backend, and
the backend is where the guard must sit (see ``_ssrf.py``). So this is the same small
adapter (httpx request ⇒ httpcore request ⇒ httpx response), with one connection pool per
``NetworkPolicy``: a request says which policy applies in its extensions, and never rides
on a connection that a more permissive policy opened.
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import AsyncIterable, AsyncIterator, Iterator

import httpcore
import httpx

from tether.runtime._ssrf import DEFAULT_NETWORK_POLICY, GuardedBackend, HostResolver, NetworkPolicy

__all__ = ["DEFAULT_LIMITS", "NETWORK_POLICY_EXTENSION", "GuardedTransport"]

NETWORK_POLICY_EXTENSION = "tether.network_policy"
DEFAULT_LIMITS = httpx.Limits(max_connections=200, max_keepalive_connections=50, keepalive_expiry=30.0)

# httpcore exception ⇒ httpx exception, most specific first (httpx's own mapping, which is private).
_EXCEPTIONS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


@contextlib.contextmanager
def _mapped(request: httpx.Request) -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        for core, mapped in _EXCEPTIONS:
            if isinstance(exc, core):
                raise mapped(str(exc) or type(exc).__name__, request=request) from exc
        raise


class _ResponseStream(httpx.AsyncByteStream):
    def __init__(self, stream: AsyncIterable[bytes], request: httpx.Request) -> None:
        self._stream = stream
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _mapped(self._request):
            async for chunk in self._stream:
                yield chunk

    async def aclose(self) -> None:
        aclose = getattr(self._stream, "aclose", None)
        if aclose is not None:
            await aclose()


class GuardedTransport(httpx.AsyncBaseTransport):
    """Sends requests over pooled connections, each opened through a ``GuardedBackend``."""

    def __init__(
        self,
        *,
        limits: httpx.Limits = DEFAULT_LIMITS,
        resolver: HostResolver | None = None,
        verify: ssl.SSLContext | bool = True,
        http2: bool = False,
    ) -> None:
        self._limits = limits
        self._resolver = resolver
        self._ssl = verify if isinstance(verify, ssl.SSLContext) else httpx.create_ssl_context(verify=verify)
        self._http2 = http2
        self._pools: dict[NetworkPolicy, httpcore.AsyncConnectionPool] = {}

    def _pool(self, policy: NetworkPolicy) -> httpcore.AsyncConnectionPool:
        pool = self._pools.get(policy)
        if pool is None:
            pool = httpcore.AsyncConnectionPool(
                ssl_context=self._ssl,
                max_connections=self._limits.max_connections,
                max_keepalive_connections=self._limits.max_keepalive_connections,
                keepalive_expiry=self._limits.keepalive_expiry,
                http2=self._http2,
                network_backend=GuardedBackend(policy, resolver=self._resolver),
            )
            self._pools[policy] = pool
        return pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        extensions = dict(request.extensions)
        policy = extensions.pop(NETWORK_POLICY_EXTENSION, DEFAULT_NETWORK_POLICY)
        if not isinstance(request.stream, httpx.AsyncByteStream):
            raise TypeError("the runtime sends async request bodies only")
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=extensions,
        )
        with _mapped(request):
            response = await self._pool(policy).handle_async_request(core_request)
        assert isinstance(response.stream, AsyncIterable)  # an async pool gives async streams
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_ResponseStream(response.stream, request),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            await pool.aclose()
