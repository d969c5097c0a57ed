"""What a call adds to an operation's request beyond its parameters: headers and query values that no
parameter declares (an ``Idempotency-Key``, a pass-through caller's extra query), the async pattern
switch and a per-call deadline. A pipeline stage, so it applies where the request takes its shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from tether.runtime._pipeline import Exchange, Send

__all__ = ["RequestExtras"]


@dataclass(frozen=True)
class RequestExtras:
    """Headers and query values that are not parameters of the operation (an Idempotency-Key...)."""

    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, Any] = field(default_factory=dict)
    # False: a 202 answer is returned as is (polling triggers read 202/Location themselves).
    async_pattern: bool = True
    # Seconds the whole call may take (None: the runtime's deadline). A flow's connector action
    # may wait longer than someone at the API for an async operation to finish.
    deadline: float | None = None

    async def __call__(self, exchange: Exchange, send: Send) -> httpx.Response:
        request = exchange.request
        query = {k: _text(v) for k, v in self.query.items()}
        url = request.url.copy_merge_params(query) if query else None
        headers = httpx.Headers(request.headers)
        for name, value in self.headers.items():
            headers.setdefault(name, value)  # a declared parameter (already set) wins
        changed = httpx.Request(
            request.method, url or request.url, headers=headers, content=request.content,
            extensions=request.extensions,
        )  # fmt: skip
        return await send(exchange.replace(request=changed))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
