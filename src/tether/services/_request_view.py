"""The outgoing request of a call as text, secrets masked: what the portal's Test tab shows.

A stage placed last in the pipeline (after policies, custom code and SOAP, right before the
transport) sees the request as it will be sent. Every string value of the connection's
parameters (API keys, passwords, client secrets) is masked wherever it appears, and so are the
values of headers that carry credentials by nature. OAuth and Basic credentials are added by
the transport's ``httpx.Auth`` after this point, so they never reach the text at all.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tether.runtime import Exchange, Send
from tether.secrets import REDACTED, redact

__all__ = ["MAX_SHOWN_BODY_BYTES", "RequestObserver"]

MAX_SHOWN_BODY_BYTES = 64_000
# Shorter parameter values (a region "eu", a flag) are not secrets and would mask half the text.
MIN_MASKED = 4
_CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})


class RequestObserver:
    """A pipeline stage that hands the masked request text to ``observe`` and sends it unchanged."""

    def __init__(self, observe: Callable[[str], None]) -> None:
        self._observe = observe

    async def __call__(self, exchange: Exchange, send: Send) -> httpx.Response:
        secrets = [
            str(v) for v in exchange.connection.parameters.values() if isinstance(v, str | int) and str(v)
        ]
        text = render_request(exchange.request)
        if exchange.connection.auth is not None:
            # The connection's credentials are added by the transport, below this stage.
            head, blank, body = text.partition("\n\n")
            text = f"{head}\n(+ the connection's credentials: {REDACTED}){blank}{body}"
        self._observe(redact(text, secrets))
        return await send(exchange)


def render_request(request: httpx.Request) -> str:
    """``METHOD URL``, the headers, a blank line and the body (text, cut at a size)."""
    lines = [f"{request.method} {request.url}"]
    for name, value in request.headers.multi_items():
        lines.append(f"{name}: {REDACTED if name.lower() in _CREDENTIAL_HEADERS else value}")
    try:
        body = request.content
    except httpx.RequestNotRead:
        return "\n".join(lines) + "\n\n(a streamed body, not shown)"
    text = body[:MAX_SHOWN_BODY_BYTES].decode("utf-8", errors="replace")
    if len(body) > MAX_SHOWN_BODY_BYTES:
        text += f"\n… ({len(body):,} bytes in all)"
    return "\n".join(lines) + ("\n\n" + text if text else "")
