"""``Idempotency-Key`` on every create and run start, applied in one place (an ASGI middleware).

Which routes: every POST whose OpenAPI operation answers 201 (creates something) or 202 (starts a
run), read from the served document, so a route added later is covered by declaring its status.
The Request trigger's ``/invoke`` and the ``/apim`` pass-through answer 200 and are left alone
(their hot path does nothing more than look for the header on POSTs).

A keyed request from a bearer-token caller is claimed before it runs (see
``tether.services._idempotency``): a retry gets the first answer again (status, body and the
headers that matter, plus ``Idempotent-Replayed: true``) for 24 hours; the same key with another
body is 422 ``idempotency-key-reused``; a retry while the first still runs is 409
``idempotency-in-progress`` with ``Retry-After`` (the second request waits for nothing and
creates nothing). Answers of 5xx, 409, 412 and 429 are not kept: the key is released so a retry
runs again. Requests without the header, or with HTTP Basic credentials, are untouched.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from typing import Any

from fastapi import FastAPI
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tether import services
from tether.api._problems import problem
from tether.errors import AuthError, TetherError
from tether.secrets import KeyRing

__all__ = ["IDEMPOTENCY_HEADER", "IdempotentCreates", "creates"]

IDEMPOTENCY_HEADER = "Idempotency-Key"
_HEADER = IDEMPOTENCY_HEADER.lower().encode()
# Headers of the first answer a retry gets again (the rest, such as Date, are the replay's own).
_KEPT_HEADERS = frozenset({"content-type", "location", "etag", "retry-after"})
_NOT_KEPT_STATUSES = frozenset({409, 412, 429})
MAX_KEPT_BODY = 4 * 2**20  # bytes; a larger answer is not kept (the key is released)
_BOUNDARY = re.compile(rb"boundary=\"?([^\";]+)\"?")


def creates(method: str, operation: dict[str, Any]) -> bool:
    """Whether an OpenAPI operation creates something or starts a run: POST answering 201 or 202."""
    responses = operation.get("responses", {})
    return method.lower() == "post" and ("201" in responses or "202" in responses)


class IdempotentCreates:
    """Replay the first answer to a retried create or run start (see the module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _header(scope, _HEADER) if scope["type"] == "http" and scope["method"] == "POST" else None
        if key is None:
            await self.app(scope, receive, send)
            return
        api: FastAPI = scope["app"]
        principal = await _principal(api, scope) if _is_create(api, scope["path"]) else None
        if principal is None:  # not a create, or no valid token: the route answers as usual
            await self.app(scope, receive, send)
            return
        messages = await _read_body(receive)
        route = f"POST {scope['path']}"
        fingerprint = _fingerprint(scope, b"".join(m.get("body", b"") for m in messages))
        database, keyring = api.state.database, _keyring(api)
        try:
            stored = await asyncio.to_thread(
                services.claim_idempotency_key,
                database,
                principal.user_id,
                route,
                key,
                fingerprint,
                keyring=keyring,
            )
        except TetherError as exc:
            answer = problem(exc.status, exc.code, exc.message, **exc.detail)
            if isinstance(exc, services.IdempotencyInProgress):
                answer.headers["Retry-After"] = "1"
            await answer(scope, receive, send)
            return
        if stored is not None:
            replay = Response(stored.body, status_code=stored.status, headers=stored.headers)
            replay.headers["Idempotent-Replayed"] = "true"
            await replay(scope, receive, send)
            return
        await self._run_first(scope, receive, send, messages, (principal.user_id, route, key), keyring)

    async def _run_first(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        messages: list[Message],
        claim: tuple[str, str, str],
        keyring: KeyRing,
    ) -> None:
        """Run the request with its body replayed, pass its answer on and keep a copy."""
        database = scope["app"].state.database
        pending = list(messages)
        started: dict[str, Any] = {}
        body = bytearray()

        async def replayed_receive() -> Message:
            return pending.pop(0) if pending else await receive()

        last: list[Message] = []

        async def kept_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                started.update(status=message["status"], headers=message.get("headers", []))
            elif message["type"] == "http.response.body":
                if len(body) <= MAX_KEPT_BODY:
                    body.extend(message.get("body", b""))
                if not message.get("more_body", False):
                    last.append(message)  # held back until the answer is kept (below)
                    return
            await send(message)

        try:
            await self.app(scope, replayed_receive, kept_send)
        except BaseException:
            await asyncio.to_thread(services.release_idempotency_key, database, *claim)
            raise
        status = started.get("status")
        if status is None or status >= 500 or status in _NOT_KEPT_STATUSES or len(body) > MAX_KEPT_BODY:
            await asyncio.to_thread(services.release_idempotency_key, database, *claim)
        else:
            answer = services.StoredAnswer(status, _kept_headers(started["headers"]), bytes(body))
            await asyncio.to_thread(
                lambda: services.store_idempotent_answer(database, *claim, answer, keyring=keyring)
            )
        # The answer ends only once it is kept: a client retrying the moment it has it is replayed
        # the answer, not told the first request is still running.
        for message in last:
            await send(message)


def _is_create(api: FastAPI, path: str) -> bool:
    """Whether ``path`` is a create or run start's (the patterns are built once, from the document)."""
    patterns: list[re.Pattern[str]] | None = getattr(api.state, "idempotent_routes", None)
    if patterns is None:
        document = api.openapi()
        patterns = [
            _template_pattern(template)
            for template, item in document.get("paths", {}).items()
            if any(
                creates(method, operation)
                for method, operation in item.items()
                if isinstance(operation, dict)
            )
        ]
        api.state.idempotent_routes = patterns
    return any(pattern.match(path) for pattern in patterns)


def _template_pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    regex = "".join(
        ("(.+)" if part.endswith(":path}") else "([^/]+)") if part.startswith("{") else re.escape(part)
        for part in parts
    )
    return re.compile(f"^{regex}$")


async def _principal(api: FastAPI, scope: Scope) -> services.Principal | None:
    """The bearer token's caller, or ``None`` (no token, Basic, or an invalid one)."""
    authorization = _header(scope, b"authorization") or ""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    try:
        principal: services.Principal = await api.state.tokens.principal(token.strip())
    except AuthError:
        return None
    return principal


def _keyring(api: FastAPI) -> KeyRing:
    """The process's key ring (made once from the settings, as the routes' ``Keys`` dependency does)."""
    if getattr(api.state, "keyring", None) is None:
        api.state.keyring = KeyRing.from_settings(api.state.settings)
    ring: KeyRing = api.state.keyring
    return ring


async def _read_body(receive: Receive) -> list[Message]:
    """Every ``http.request`` message of the body (the caps of ``UploadBodyLimit`` apply upstream)."""
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            return messages


def _fingerprint(scope: Scope, body: bytes) -> str:
    """What makes two requests "the same": route, query and body (a multipart boundary, which
    clients draw afresh for each try, does not count)."""
    content_type = (_header(scope, b"content-type") or "").encode()
    found = _BOUNDARY.search(content_type)
    if found:
        body = body.replace(found.group(1), b"<boundary>")
        content_type = content_type.replace(found.group(1), b"<boundary>")
    digest = hashlib.sha256()
    for part in (scope["path"].encode(), scope.get("query_string", b""), content_type, body):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


def _kept_headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    kept: dict[str, str] = {}
    for name, value in raw:
        text = name.decode("latin-1").lower()
        if text in _KEPT_HEADERS or text.startswith("x-"):
            kept[text] = value.decode("latin-1")
    return kept


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None
