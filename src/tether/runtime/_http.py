"""The httpx transport under the runtime: aiohttp pools whose connections open through the SSRF guard.

The runtime speaks httpx (requests, responses, ``httpx.Auth``, stages) but sends on aiohttp:
on this project's 2-core benchmark machine httpx's own pool (httpcore on anyio) costs about
1 ms of CPU per request and collapses under concurrency (330 requests/s at 32 in flight),
where aiohttp's C parser and pool sustain over 6,000. So this adapter turns an
``httpx.Request`` into an aiohttp request and the answer back into a streamed
``httpx.Response``, keeping httpx's semantics: no default headers added, bodies handed on
still encoded (httpx decodes them), no cookies kept, no redirects followed, httpx's
exception types.

There is one pool per ``NetworkPolicy``: a request says which policy applies in its
extensions, and never rides on a connection that a more permissive policy opened. Each pool
resolves host names with :class:`GuardedResolver` (every address checked, then connected to
as checked); literal addresses are checked here, as aiohttp does not resolve them.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import ssl
from collections.abc import AsyncIterator, Iterator
from http.cookiejar import DefaultCookiePolicy
from typing import Any

import aiohttp
import httpx
from multidict import CIMultiDict
from yarl import URL

from tether.auth import NoAuth
from tether.runtime._ssrf import DEFAULT_NETWORK_POLICY, GuardedResolver, HostResolver, NetworkPolicy, is_ip

__all__ = [
    "DEFAULT_LIMITS",
    "EAGER_BODY_BYTES",
    "EAGER_BODY_EXTENSION",
    "NETWORK_POLICY_EXTENSION",
    "GuardedTransport",
    "send_one_hop",
    "shared_client",
]

NETWORK_POLICY_EXTENSION = "tether.network_policy"
_HTTPX_LOG = logging.getLogger("httpx")
DEFAULT_LIMITS = httpx.Limits(max_connections=200, max_keepalive_connections=50, keepalive_expiry=30.0)
_CHUNK = 64 * 1024
# A request may let its answer's body be read before the response is handed on, up to this many
# bytes of declared length (``Runtime.invoke`` does, within its own buffering limit; see below).
EAGER_BODY_EXTENSION = "tether.eager_body_bytes"
EAGER_BODY_BYTES = 64 * 1024

# aiohttp exception ⇒ httpx exception, most specific first.
_EXCEPTIONS: tuple[tuple[type[BaseException], type[httpx.TransportError]], ...] = (
    (aiohttp.ConnectionTimeoutError, httpx.ConnectTimeout),
    (aiohttp.SocketTimeoutError, httpx.ReadTimeout),
    (aiohttp.ServerTimeoutError, httpx.ReadTimeout),
    (asyncio.TimeoutError, httpx.TimeoutException),
    (aiohttp.ClientConnectorError, httpx.ConnectError),
    (aiohttp.ServerDisconnectedError, httpx.RemoteProtocolError),
    (aiohttp.ClientResponseError, httpx.RemoteProtocolError),
    (aiohttp.ClientPayloadError, httpx.ReadError),
    (aiohttp.InvalidURL, httpx.UnsupportedProtocol),
    (aiohttp.ClientOSError, httpx.NetworkError),
    (aiohttp.ClientConnectionError, httpx.NetworkError),
    (aiohttp.ClientError, httpx.TransportError),
)


@contextlib.contextmanager
def _mapped(request: httpx.Request) -> Iterator[None]:
    try:
        yield
    except (TimeoutError, aiohttp.ClientError) as exc:
        for source, mapped in _EXCEPTIONS:
            if isinstance(exc, source):
                raise mapped(str(exc) or type(exc).__name__, request=request) from exc
        raise


class _ResponseStream(httpx.AsyncByteStream):
    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _mapped(self._request):
            async for chunk in self._response.content.iter_chunked(_CHUNK):
                yield chunk

    async def aclose(self) -> None:
        self._response.release()  # back to the pool when read to the end, else the connection closes


class GuardedTransport(httpx.AsyncBaseTransport):
    """Sends requests over pooled aiohttp connections, each opened through a :class:`GuardedResolver`."""

    def __init__(
        self,
        *,
        limits: httpx.Limits = DEFAULT_LIMITS,
        resolver: HostResolver | None = None,
        verify: ssl.SSLContext | bool = True,
        default_policy: NetworkPolicy = DEFAULT_NETWORK_POLICY,
    ) -> None:
        """``default_policy`` applies to requests that name none in their extensions."""
        self._limits = limits
        self._default_policy = default_policy
        self._resolver = resolver
        self._ssl = verify if isinstance(verify, ssl.SSLContext) else httpx.create_ssl_context(verify=verify)
        self._sessions: dict[NetworkPolicy, aiohttp.ClientSession] = {}

    def _session(self, policy: NetworkPolicy) -> aiohttp.ClientSession:
        session = self._sessions.get(policy)
        if session is None:
            connector = aiohttp.TCPConnector(
                limit=self._limits.max_connections or 0,
                limit_per_host=0,
                keepalive_timeout=self._limits.keepalive_expiry or 30.0,
                ssl=self._ssl,
                resolver=GuardedResolver(policy, self._resolver),
                use_dns_cache=False,  # each new connection resolves and is checked afresh
            )
            session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,  # httpx decodes, as it does with its own transport
                trust_env=False,  # an environment proxy would bypass the network policy
                skip_auto_headers=("Accept", "Accept-Encoding", "User-Agent", "Content-Type"),
                timeout=aiohttp.ClientTimeout(total=None),
            )
            self._sessions[policy] = session
        return session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        policy: NetworkPolicy = request.extensions.get(NETWORK_POLICY_EXTENSION, self._default_policy)
        host = request.url.host
        if is_ip(host):
            policy.check_addresses(host, [host])  # aiohttp connects to literal addresses unresolved
        timeout = request.extensions.get("timeout", {})
        headers = CIMultiDict((k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw)
        # httpx frames a body of unknown length as chunked in a header; aiohttp must do the framing.
        chunked = "chunked" in headers.popall("transfer-encoding", [""])[-1].lower() or None
        with _mapped(request):
            response = await self._session(policy).request(
                request.method,
                _yarl_url(str(request.url)),
                headers=headers,
                data=_body(request),
                chunked=chunked,
                allow_redirects=False,
                compress=None,
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    sock_connect=timeout.get("connect"),
                    sock_read=timeout.get("read"),
                    connect=timeout.get("pool"),
                ),
            )
        extensions = {"http_version": b"HTTP/1.1", "reason_phrase": (response.reason or "").encode()}
        length = response.content_length
        plain = "content-encoding" not in response.headers  # an encoded body is decoded by httpx, as read
        eager = request.extensions.get(EAGER_BODY_EXTENSION, 0)
        if length is not None and length <= eager and plain and request.method != "HEAD":
            # A small body whose length is declared is read here, in aiohttp's reader, and handed
            # on already read: most answers are, and httpx's stream layers cost more than reading.
            with _mapped(request):
                try:
                    content = await response.read()
                finally:
                    response.release()
            return _read_response(response.status, list(response.raw_headers), content, extensions)
        return httpx.Response(
            status_code=response.status,
            headers=list(response.raw_headers),
            stream=_ResponseStream(response, request),
            extensions=extensions,
        )

    async def aclose(self) -> None:
        sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            await session.close()


async def send_one_hop(
    client: httpx.AsyncClient, request: httpx.Request, auth: httpx.Auth | None
) -> httpx.Response:
    """``client.send(request, auth=auth, follow_redirects=False, stream=True)``, without the idle layers.

    The runtime's transport follows redirects itself and reads bodies as streams, and its
    client keeps no cookies and has no hooks: of httpx's send (auth flow ⇒ redirects ⇒ hooks ⇒
    timing wrapper ⇒ transport), only the auth flow and the transport do any work here, and the
    layers between cost about a tenth of a call's CPU. So this runs just those two, with httpx's
    semantics: the same auth flow protocol, the response bound to its request, httpx's log line.
    A client with event hooks, or a closed one, takes httpx's own road. (It reads three private
    members of httpx's client; httpx is pinned below 0.29 in pyproject.toml.)
    """
    if client.is_closed or any(client.event_hooks.values()):
        return await client.send(request, auth=auth, follow_redirects=False, stream=True)
    if "timeout" not in request.extensions:
        request.extensions["timeout"] = client.timeout.as_dict()
    if (auth is None or type(auth) is NoAuth) and not request.url.userinfo:
        # An auth flow that only hands the request on (what httpx runs for no auth, or for
        # userinfo in the URL when there is some) is one hop: skip the generator's round trips.
        return await _one_hop(client, request)
    flow = client._build_request_auth(request, auth).async_auth_flow(request)
    try:
        request = await flow.__anext__()
        while True:
            response = await _one_hop(client, request)
            try:
                try:
                    request = await flow.asend(response)
                except StopAsyncIteration:
                    return response
                await response.aread()  # a challenge answered: the flow sends again
            except BaseException:
                await response.aclose()
                raise
    finally:
        await flow.aclose()


async def _one_hop(client: httpx.AsyncClient, request: httpx.Request) -> httpx.Response:
    response = await client._transport_for_url(request.url).handle_async_request(request)
    response.request = request
    response.default_encoding = client._default_encoding
    if _HTTPX_LOG.isEnabledFor(logging.INFO):  # httpx's own line, redacted like the rest (test_redact)
        _HTTPX_LOG.info(
            'HTTP Request: %s %s "%s %d %s"',
            request.method,
            request.url,
            response.http_version,
            response.status_code,
            response.reason_phrase,
        )
    return response


def _read_response(
    status: int, headers: list[tuple[bytes, bytes]], content: bytes, extensions: dict[str, Any]
) -> httpx.Response:
    """An already read ``httpx.Response``, as ``Response(content=...)`` makes it, minus its work.

    That constructor re-reads the bytes through httpx's decoder chain and looks up the framing
    headers again; the body is not encoded (the caller checks) and its length is declared, so
    that work changes nothing here. The fields set are the ones ``read()`` and ``close()`` set
    (httpx is pinned below 0.29 in pyproject.toml).
    """
    answer = httpx.Response(status, headers=headers, stream=httpx.ByteStream(content), extensions=extensions)
    answer._content = content
    answer.is_stream_consumed = True
    answer.is_closed = True
    answer._num_bytes_downloaded = len(content)
    return answer


def shared_client(transport: httpx.AsyncBaseTransport, timeout: httpx.Timeout | float) -> httpx.AsyncClient:
    """An httpx client that many callers (connections, flow runs) share: it remembers nothing.

    A cookie one caller's API sets would otherwise pile up in the jar for the life of the process
    and ride along with nobody's requests: the jar refuses every cookie, and httpx is told not to
    parse them at all (a tenth of a call's CPU). Redirects are the caller's to follow, and an
    environment proxy would bypass the network policy.
    """
    client = httpx.AsyncClient(transport=transport, timeout=timeout, follow_redirects=False, trust_env=False)
    client.cookies.jar.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    client.cookies.extract_cookies = _keep_no_cookies  # type: ignore[method-assign]
    return client


def _keep_no_cookies(response: httpx.Response) -> None:
    return None


@functools.lru_cache(maxsize=1024)
def _yarl_url(url: str) -> URL:
    """``url`` (already encoded by httpx) as aiohttp takes it; immutable, so parsed once per URL."""
    return URL(url, encoded=True)


def _body(request: httpx.Request) -> Any:
    """The body as aiohttp takes it: bytes when in memory, else the request's own async stream."""
    try:
        return request.content or None
    except httpx.RequestNotRead:
        if not isinstance(request.stream, httpx.AsyncByteStream):
            raise TypeError("the runtime sends async request bodies only") from None
        return request.stream
