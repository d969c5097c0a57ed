"""What a ``script.py`` sees: ``ScriptBase``, its ``context``, and simple request/response objects.

Tether's counterpart of Power Platform's ``Script : ScriptBase``::

    class Script(ScriptBase):
        async def execute(self):
            self.context.request.headers["X-Api-Version"] = "2"
            response = await self.context.send(self.context.request)
            data = response.json()
            response.set_json({"items": data["value"]})
            return response

The script replaces the default call: it must ``await self.context.send(...)`` to reach the
API, and return the response to give back. The objects are plain picklable values, because
the script runs in a separate worker process and ``send`` crosses back to the server.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ScriptBase", "ScriptContext", "ScriptRequest", "ScriptResponse"]


class _Message:
    headers: dict[str, str]
    content: bytes

    @property
    def text(self) -> str:
        """The body decoded as UTF-8."""
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.content) if self.content else None

    def set_json(self, value: Any) -> None:
        """Replace the body with ``value`` as JSON (and say so in ``Content-Type``)."""
        self.content = json.dumps(value, ensure_ascii=False).encode("utf-8")
        self.set_header("Content-Type", "application/json")

    def header(self, name: str, default: str | None = None) -> str | None:
        """A header's value, whatever the case of its name."""
        lower = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lower), default)

    def set_header(self, name: str, value: str) -> None:
        """Set a header, replacing any spelling of the same name."""
        for key in [k for k in self.headers if k.lower() == name.lower()]:
            del self.headers[key]
        self.headers[name] = value


@dataclass
class ScriptRequest(_Message):
    """An HTTP request: ``method``, absolute ``url``, ``headers`` (a dict) and ``content`` bytes."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes = b""


@dataclass
class ScriptResponse(_Message):
    """An HTTP response: ``status_code``, ``headers`` and ``content`` bytes."""

    status_code: int
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes = b""


class ScriptContext:
    """``self.context`` of a script: the call it handles, a logger, and ``send``."""

    def __init__(
        self,
        *,
        operation_id: str,
        correlation_id: str,
        request: ScriptRequest,
        send: Callable[[ScriptRequest], Awaitable[ScriptResponse]],
        logger: logging.Logger | None = None,
    ) -> None:
        self.operation_id = operation_id
        self.correlation_id = correlation_id
        self.request = request
        self.logger = logger or logging.getLogger("tether.script")
        self._send = send

    async def send(self, request: ScriptRequest) -> ScriptResponse:
        """Send ``request`` to the API through the connection (the only way out of a script)."""
        if not isinstance(request, ScriptRequest):
            raise TypeError("context.send takes a ScriptRequest (self.context.request, or a new one)")
        return await self._send(request)


class ScriptBase:
    """Base class of ``Script``; override ``async def execute(self)`` and return a response."""

    def __init__(self, context: ScriptContext) -> None:
        self.context = context

    async def execute(self) -> ScriptResponse:
        """Handle the call; the default sends the request unchanged."""
        return await self.context.send(self.context.request)
