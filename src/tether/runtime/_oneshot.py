"""The road for a caller that holds no :class:`Runtime`: one made for each request, then closed.

A rare call (an OAuth code exchange in a process that never ran an operation, a library user's
token source) still takes the runtime's transport, so the network policy and every other rule
apply; it pays for a new connection pool per request instead of leaking one.
"""

from __future__ import annotations

import httpx

from tether.runtime._http import shared_client
from tether.runtime._invoke import Runtime
from tether.runtime._ssrf import NetworkPolicy
from tether.runtime._transport import DEFAULT_TIMEOUT

__all__ = ["OneShotTransport", "road_client"]


class OneShotTransport(httpx.AsyncBaseTransport):
    """Sends each request through a fresh :class:`Runtime` under ``network_policy``; bodies read whole."""

    def __init__(self, network_policy: NetworkPolicy) -> None:
        self._policy = network_policy

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        async with Runtime(network_policy=self._policy, rate_limit=None) as runtime:
            response = await runtime.http_client().send(request)  # read whole before the pool closes
            return httpx.Response(
                response.status_code, headers=response.headers.raw, content=response.content
            )


def road_client(network_policy: NetworkPolicy, runtime: Runtime | None = None) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` on the runtime's road under ``network_policy``.

    ``runtime``'s shared client when given (closed with it), else one over :class:`OneShotTransport`
    that holds nothing open between requests.
    """
    if runtime is not None:
        return runtime.http_client(network_policy)
    return shared_client(OneShotTransport(network_policy), DEFAULT_TIMEOUT)
