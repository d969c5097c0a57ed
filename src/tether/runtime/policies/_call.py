"""One call's working state while its policies run: the request, then the response, in parts.

Policies edit parts (base URL, path, query, headers, JSON body) rather than ``httpx``
objects, so that ``dynamichosturl`` can swap the host while ``routerequesttoendpoint``
swaps the path, in either order, and a body is parsed and serialized once however many
policies shape it. ``finish_request``/``finish_response`` build the ``httpx`` objects again,
and only when something changed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Literal
from urllib.parse import unquote

import httpx

from tether.runtime._pipeline import Exchange, Send
from tether.runtime.policies._expressions import Scope

__all__ = ["TRIGGER_STATE_ARGUMENT", "PolicyCall", "Section"]

# The argument that carries the last trigger body into a polling call (see ``_polling``);
# not a valid parameter name in any connector, so it cannot clash with a real argument.
TRIGGER_STATE_ARGUMENT = "@triggerBody"

Section = Literal["Request", "Response", "Failure"]
_NOT_JSON = object()
# Headers that describe the old body; httpx recomputes them for the new one.
_BODY_HEADERS = ("content-length", "content-encoding", "transfer-encoding")


class PolicyCall:
    """The mutable state the policies of one call share (request parts, then response parts)."""

    def __init__(self, exchange: Exchange, send: Send) -> None:
        request = exchange.request
        self.exchange = exchange
        self.send = send
        self.section: Section = "Request"
        self.method = request.method
        self.base_url, self.path = _split(request.url, exchange.operation.path)
        self.query: list[tuple[str, str]] = list(request.url.params.multi_items())
        self.headers = httpx.Headers(request.headers)
        self.path_values = _path_values(self.path, exchange.operation.path)
        self._request_changed = False
        self._body: Any = _NOT_JSON
        self._content = request.content
        self._body_changed = False
        self._opaque = False
        self.response: httpx.Response | None = None
        self.request_headers = self.headers
        self.scope = Scope(
            connection=exchange.connection.parameters,
            headers=_HeaderView(self),
            query=_QueryView(self),
            method=request.method,
            trigger_body=exchange.arguments.get(TRIGGER_STATE_ARGUMENT),
        )

    # -- shared by both sections -------------------------------------------------------
    @property
    def body(self) -> Any:
        """The JSON body of the current message (None when there is none or it is not JSON)."""
        if self._body is _NOT_JSON:
            parsed = _parse_json(self._content)
            self._opaque = parsed is _NOT_JSON
            self._body = None if self._opaque else parsed
            self.scope.body = self._body
        return self.scope.body

    def load_body(self) -> Any:
        """Parse the body into ``scope.body`` (policies that shape JSON call this first)."""
        return self.body

    def body_changed(self) -> None:
        """Note that ``scope.body`` was edited, so the message is serialized again.

        A body that is not JSON (a form, XML) is never replaced by JSON: edits are dropped.
        """
        self._body_changed = not self._opaque

    def request_changed(self) -> None:
        """Note that the URL, method or headers of the request changed."""
        self._request_changed = True

    @contextmanager
    def item(self, value: Any) -> Iterator[None]:
        """Bind ``@item()`` while a policy works on one element of a collection."""
        previous, self.scope.item = self.scope.item, value
        try:
            yield
        finally:
            self.scope.item = previous

    def url(self, path: str | None = None) -> str:
        """The current base URL joined with ``path`` (the current path by default)."""
        path = self.path if path is None else path
        return self.base_url.rstrip("/") + "/" + path.lstrip("/")

    # -- request -----------------------------------------------------------------------
    def finish_request(self) -> Exchange:
        """The exchange to send: the original one when no policy changed anything."""
        if not (self._request_changed or self._body_changed):
            return self.exchange
        original = self.exchange.request
        headers = httpx.Headers(self.headers)
        content = original.content
        if self._body_changed:
            content = _dump_json(self.scope.body)
            for name in _BODY_HEADERS:
                headers.pop(name, None)
        elif "content-length" not in original.headers:
            headers.pop("content-length", None)
        url = httpx.URL(self.url(), params=self.query) if self.query else httpx.URL(self.url())
        request = httpx.Request(
            self.method, url, headers=headers, content=content, extensions=original.extensions
        )
        return self.exchange.replace(request=request)

    # -- response ----------------------------------------------------------------------
    async def start_response(self, response: httpx.Response, section: Section) -> None:
        """Switch to the response: headers and body now mean the response's."""
        await response.aread()
        self.request_headers = self.headers
        self.section = section
        self.response = response
        self.headers = httpx.Headers(response.headers)
        self._content = response.content
        self._body = _NOT_JSON
        self._body_changed = False
        self._opaque = False
        self._request_changed = False
        self.scope.body = None

    def finish_response(self) -> httpx.Response:
        """The response to return: the original one when no policy changed anything."""
        response = self.response
        if response is None:
            raise RuntimeError("finish_response before start_response")
        if not (self._request_changed or self._body_changed):
            return response
        headers = httpx.Headers(self.headers)
        content = response.content
        if self._body_changed:
            content = _dump_json(self.scope.body)
            headers["content-type"] = headers.get("content-type") or "application/json"
        for name in _BODY_HEADERS:
            headers.pop(name, None)
        return httpx.Response(
            response.status_code,
            headers=headers,
            content=content,
            request=response.request,
            extensions=response.extensions,
        )


class _HeaderView(Mapping[str, str]):
    """``@headers('x')``: the request's headers as the policies have left them so far."""

    def __init__(self, call: PolicyCall) -> None:
        self._call = call

    def _headers(self) -> httpx.Headers:
        return self._call.headers if self._call.section == "Request" else self._call.request_headers

    def __getitem__(self, key: str) -> str:
        return self._headers()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._headers().keys())

    def __len__(self) -> int:
        return len(self._headers())


class _QueryView(Mapping[str, str]):
    """``@queryParameters('x')``: the first value of each query parameter."""

    def __init__(self, call: PolicyCall) -> None:
        self._call = call

    def __getitem__(self, key: str) -> str:
        for name, value in self._call.query:
            if name == key:
                return value
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(dict(self._call.query))

    def __len__(self) -> int:
        return len(dict(self._call.query))


def _split(url: httpx.URL, operation_path: str) -> tuple[str, str]:
    """Split a request URL into the base URL and the operation's path (still encoded).

    The runtime builds ``base + basePath + path``; the operation path has as many segments
    as its template, so they are counted from the end (a base URL from the connection or
    a gateway may have any shape).
    """
    raw_path = url.raw_path.decode("ascii").split("?", 1)[0]
    segments = raw_path.split("/")[1:]
    wanted = len(operation_path.split("/")[1:]) if operation_path.strip("/") else 0
    origin = f"{url.scheme}://{url.netloc.decode('ascii')}"
    if wanted == 0 or wanted > len(segments):
        return origin + raw_path.rstrip("/"), "/"
    base = "/".join(segments[: len(segments) - wanted])
    return origin + ("/" + base if base else ""), "/" + "/".join(segments[len(segments) - wanted :])


def _path_values(path: str, template: str) -> dict[str, str]:
    """Path parameter values (encoded, as sent) by name, read off the request path."""
    values: dict[str, str] = {}
    for actual, pattern in zip(path.split("/"), template.split("/"), strict=False):
        if pattern.startswith("{") and pattern.endswith("}") and pattern.count("{") == 1:
            values[pattern[1:-1]] = actual
    return values


def _parse_json(content: bytes) -> Any:
    if not content.strip():
        return None
    try:
        return json.loads(content)
    except ValueError:
        return _NOT_JSON  # body policies find nothing to shape


def _dump_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def decode_name(name: str) -> str:
    """A query parameter name as the API sees it (``%24top`` in one connector means ``$top``)."""
    return unquote(name)
