"""The runtime's transport as an ``httpx`` transport, for code that speaks httpx rather than exchanges.

authlib's OAuth client and the connection test build ``httpx`` requests themselves. Handing them
an ``httpx.AsyncClient`` over :class:`RoadTransport` (``Runtime.http_client``) sends those
requests on the same road as every operation call: the network policy and SSRF guard, the
overall deadline, retries, redirects followed with credentials kept on their origin, redaction
in logs. Tether's errors (``DestinationRefused``, ``UpstreamTimeout``...) come out as they are.
"""

from __future__ import annotations

import httpx

from tether.runtime._transport import Transport

__all__ = ["RoadTransport"]


class RoadTransport(httpx.AsyncBaseTransport):
    """Sends each request through a runtime :class:`Transport` with no connection credentials.

    The credentials a caller's client put on the request itself (authlib's client
    authentication) are stripped like any other on a redirect to another origin.
    """

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._transport.send(request)
        # A fresh response around the same (unread) stream: the calling client binds it to itself.
        return httpx.Response(
            response.status_code,
            headers=response.headers.raw,
            stream=response.stream,
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        """Nothing to close: the runtime owns the pool under the transport."""
