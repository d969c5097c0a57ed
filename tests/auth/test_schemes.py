"""Credential schemes as httpx.Auth, checked with a mock transport."""

from __future__ import annotations

import asyncio
import base64

import httpx
import pytest

from tether.auth import (
    ApiKeyAuth,
    BasicAuth,
    BearerAuth,
    NoAuth,
    OAuth2Auth,
    TokenSet,
    token_was_rejected,
)
from tether.errors import InputError


def echo(request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "url": str(request.url),
            "auth": request.headers.get("Authorization"),
            "key": request.headers.get("X-Key"),
        },
    )


def send(auth: httpx.Auth, url: str = "https://api.example/items?a=1") -> dict:
    with httpx.Client(transport=httpx.MockTransport(echo), auth=auth) as client:
        return client.get(url).json()


@pytest.mark.parametrize(
    ("auth", "expected", "secret"),
    [
        pytest.param(NoAuth(), {"auth": None, "key": None}, None, id="none"),
        pytest.param(ApiKeyAuth("X-Key", "Header", "k-123"), {"key": "k-123"}, "k-123", id="api-key-header"),
        pytest.param(
            ApiKeyAuth("code", "query", "k/4="),
            {"url": "https://api.example/items?a=1&code=k%2F4%3D"},
            "k/4=",
            id="api-key-query",
        ),
        pytest.param(
            BasicAuth("ann", "pw:1"),
            {"auth": "Basic " + base64.b64encode(b"ann:pw:1").decode()},
            "pw:1",
            id="basic",
        ),
        pytest.param(BearerAuth("tok-9"), {"auth": "Bearer tok-9"}, "tok-9", id="bearer"),
    ],
)
def test_schemes_add_credentials_and_hide_them(auth: httpx.Auth, expected: dict, secret: str | None) -> None:
    assert expected.items() <= send(auth).items()
    if secret:
        assert secret not in repr(auth)


def test_api_key_location_is_validated() -> None:
    with pytest.raises(InputError, match="'cookie' is not supported"):
        ApiKeyAuth("k", "cookie", "v")


class Source:
    """A token source handing out numbered tokens; the API accepts only ``good``."""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens, self.calls = tokens, []

    async def get_token(self, force_refresh: bool = False) -> TokenSet:
        self.calls.append(force_refresh)
        if force_refresh:
            self.tokens.pop(0)
        return TokenSet(access_token=self.tokens[0])


def api(status_for_bad: int, header: str | None = None):
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.content == b"payload"  # the body is replayed on retry
        if request.headers["Authorization"] == "Bearer good":
            return httpx.Response(200, json={"ok": True})
        return httpx.Response(status_for_bad, headers={"WWW-Authenticate": header} if header else {})

    return handler


def call_oauth(source: Source, handler) -> httpx.Response:
    async def go() -> httpx.Response:
        async with httpx.AsyncClient(
            transport=httpx.MockTransport(handler), auth=OAuth2Auth(source)
        ) as client:
            return await client.post("https://api.example/x", content=b"payload")

    return asyncio.run(go())


@pytest.mark.parametrize(
    ("status", "header"),
    [
        pytest.param(401, None, id="401"),
        pytest.param(403, 'Bearer error="invalid_token"', id="403-invalid-token"),
    ],
)
def test_oauth2_refreshes_once_on_rejected_token(status: int, header: str | None) -> None:
    source = Source(["stale", "good"])
    response = call_oauth(source, api(status, header))
    assert response.status_code == 200 and source.calls == [False, True]


def test_oauth2_does_not_retry_a_permission_403() -> None:
    source = Source(["stale", "good"])
    response = call_oauth(source, api(403, 'Bearer error="insufficient_scope"'))
    assert response.status_code == 403 and source.calls == [False]


def test_oauth2_retries_only_once() -> None:
    source = Source(["stale", "still-bad", "good"])
    response = call_oauth(source, api(401))
    assert response.status_code == 401 and source.calls == [False, True]


def test_oauth2_needs_an_async_client() -> None:
    with pytest.raises(RuntimeError, match="AsyncClient"):
        send(OAuth2Auth(Source(["good"])))


def test_token_was_rejected() -> None:
    assert token_was_rejected(httpx.Response(401))
    assert not token_was_rejected(httpx.Response(403))
    assert not token_was_rejected(httpx.Response(200))


def test_token_set_repr_hides_tokens() -> None:
    tokens = TokenSet(access_token="at-secret", refresh_token="rt-secret")
    assert "at-secret" not in repr(tokens) and "rt-secret" not in repr(tokens)
    assert repr(OAuth2Auth(Source(["x"]))) == "OAuth2Auth(token_source=Source)"
