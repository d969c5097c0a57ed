"""OAuth 2.0 end to end against a real authorization server (django-oauth-toolkit).

The server enforces PKCE, exact redirect URIs, refresh-token rotation with reuse protection and client
authentication, so these tests show Tether's clients do the protocol right and surface refusals well.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.oauth_server.fixtures import OAuthServer
from tether.auth import (
    OAuth2Auth,
    OAuthError,
    RefreshingTokenSource,
    StateSigner,
    TokenSet,
    generate_code_verifier,
    make_nonce,
    provider_for,
)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def _sign_in(server: OAuthServer, *, user: str = "alice") -> TokenSet:
    provider = provider_for(server.oauth_settings())
    verifier = generate_code_verifier()
    url = provider.authorization_url(redirect_uri=server.redirect_uri, state="s1", code_verifier=verifier)
    code, state = server.authorize(url, user=user)
    assert state == "s1"
    return run(provider.exchange_code(code, redirect_uri=server.redirect_uri, code_verifier=verifier))


def test_authorization_code_with_pkce_then_an_authorized_call(oauth_server: OAuthServer) -> None:
    signer = StateSigner("server-secret")
    state = signer.sign(consent_id="c1", user_id="u1", nonce=make_nonce())
    provider = provider_for(oauth_server.oauth_settings())
    verifier = generate_code_verifier()
    url = provider.authorization_url(
        redirect_uri=oauth_server.redirect_uri, state=state, code_verifier=verifier
    )
    assert "code_challenge_method=S256" in url

    code, returned_state = oauth_server.authorize(url, user="bob")
    assert signer.verify(returned_state).consent_id == "c1"
    tokens = run(provider.exchange_code(code, redirect_uri=oauth_server.redirect_uri, code_verifier=verifier))
    assert tokens.access_token and tokens.refresh_token and tokens.expires_at is not None
    assert tokens.scope == "read" and not tokens.expires_soon()

    async def call() -> httpx.Response:
        source = RefreshingTokenSource(provider, tokens)
        async with httpx.AsyncClient(auth=OAuth2Auth(source)) as client:
            return await client.get(f"{oauth_server.base_url}/api/me")

    response = run(call())
    assert response.status_code == 200
    assert response.json() == {"user": "bob", "client_id": oauth_server.web_client_id, "scope": "read"}


def test_expired_token_is_refreshed_once_and_the_call_retried(oauth_server: OAuthServer) -> None:
    tokens = _sign_in(oauth_server)
    provider = provider_for(oauth_server.oauth_settings())
    stored: list[TokenSet] = []

    async def remember(fresh: TokenSet) -> None:
        stored.append(fresh)

    source = RefreshingTokenSource(provider, tokens, on_refresh=remember)
    oauth_server.expire_tokens()  # the server now answers 401 invalid_token to our access token
    before = oauth_server.token_requests()

    async def call() -> httpx.Response:
        async with httpx.AsyncClient(auth=OAuth2Auth(source)) as client:
            return await client.get(f"{oauth_server.base_url}/api/me")

    response = run(call())
    assert response.status_code == 200
    assert [r.status_code for r in response.history] == [401]
    assert oauth_server.token_requests() == before + 1
    assert len(stored) == 1 and stored[0].refresh_token != tokens.refresh_token  # rotated


def test_token_expiring_soon_is_refreshed_before_the_call(oauth_server: OAuthServer) -> None:
    from dataclasses import replace
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)  # an hour-long token with 5 s left
    tokens = replace(
        _sign_in(oauth_server), issued_at=now - timedelta(hours=1), expires_at=now + timedelta(seconds=5)
    )
    source = RefreshingTokenSource(provider_for(oauth_server.oauth_settings()), tokens)
    before = oauth_server.token_requests()

    async def call() -> list[httpx.Response]:
        async with httpx.AsyncClient(auth=OAuth2Auth(source)) as client:
            url = f"{oauth_server.base_url}/api/me"
            return await asyncio.gather(*(client.get(url) for _ in range(8)))

    responses = run(call())
    assert [r.status_code for r in responses] == [200] * 8
    assert all(not r.history for r in responses)
    assert oauth_server.token_requests() == before + 1  # eight callers, one refresh


def test_concurrent_rejections_force_a_single_refresh(oauth_server: OAuthServer) -> None:
    source = RefreshingTokenSource(provider_for(oauth_server.oauth_settings()), _sign_in(oauth_server))
    oauth_server.expire_tokens()
    before = oauth_server.token_requests()

    async def call() -> list[httpx.Response]:
        async with httpx.AsyncClient(auth=OAuth2Auth(source)) as client:
            url = f"{oauth_server.base_url}/api/me"
            return await asyncio.gather(*(client.get(url) for _ in range(6)))

    assert [r.status_code for r in run(call())] == [200] * 6
    assert oauth_server.token_requests() == before + 1


def test_refresh_token_rotation_rejects_the_old_refresh_token(oauth_server: OAuthServer) -> None:
    tokens = _sign_in(oauth_server)
    provider = provider_for(oauth_server.oauth_settings())
    fresh = run(provider.refresh(tokens.refresh_token))
    assert fresh.refresh_token and fresh.refresh_token != tokens.refresh_token
    with pytest.raises(OAuthError) as info:
        run(provider.refresh(tokens.refresh_token))
    assert info.value.error == "invalid_grant"
    assert tokens.refresh_token not in info.value.message


def test_revoked_refresh_token_gives_the_providers_reason(oauth_server: OAuthServer) -> None:
    tokens = _sign_in(oauth_server)
    assert oauth_server.revoke_refresh_token(tokens.refresh_token)
    with pytest.raises(OAuthError) as info:
        run(provider_for(oauth_server.oauth_settings()).refresh(tokens.refresh_token))
    error = info.value
    assert error.code == "oauth-error" and error.error == "invalid_grant"
    assert "token refresh refused by oauth2: invalid_grant" in error.message
    assert error.detail["error"] == "invalid_grant"


def test_client_credentials(oauth_server: OAuthServer) -> None:
    provider = provider_for(oauth_server.oauth_settings(client="service"))
    tokens = run(provider.client_credentials(["read"]))
    assert tokens.access_token and tokens.refresh_token is None and tokens.scope == "read"

    async def call() -> httpx.Response:
        async with httpx.AsyncClient(auth=OAuth2Auth(RefreshingTokenSource(provider, tokens))) as client:
            return await client.get(f"{oauth_server.base_url}/api/me")

    response = run(call())
    assert response.status_code == 200 and response.json()["user"] is None


def test_wrong_client_secret_is_refused(oauth_server: OAuthServer) -> None:
    settings = oauth_server.oauth_settings(client="service").model_copy(update={"client_secret": "wrong"})
    with pytest.raises(OAuthError) as info:
        run(provider_for(settings).client_credentials())
    assert info.value.error == "invalid_client" and "wrong" not in info.value.message


def test_redirect_uri_mismatch_at_exchange_is_refused(oauth_server: OAuthServer) -> None:
    provider = provider_for(oauth_server.oauth_settings())
    verifier = generate_code_verifier()
    url = provider.authorization_url(
        redirect_uri=oauth_server.redirect_uri, state="s", code_verifier=verifier
    )
    code, _ = oauth_server.authorize(url)
    other = "http://127.0.0.1:8765/redirect"  # registered too, but not the one the code was issued for
    with pytest.raises(OAuthError) as info:
        run(provider.exchange_code(code, redirect_uri=other, code_verifier=verifier))
    assert "redirect" in info.value.message.lower()
    assert code not in info.value.message


def test_unregistered_redirect_uri_is_refused_at_authorize(oauth_server: OAuthServer) -> None:
    provider = provider_for(oauth_server.oauth_settings())
    url = provider.authorization_url(
        redirect_uri="http://127.0.0.1:8765/evil", state="s", code_verifier=generate_code_verifier()
    )
    response = httpx.get(url, headers={"X-Test-User": "alice"})
    # RFC 6749 §4.1.2.1: never redirect to an unregistered URI; the server shows an error instead.
    assert response.status_code == 400 and "Location" not in response.headers
    assert "redirect" in response.text.lower()


def test_missing_pkce_verifier_is_refused(oauth_server: OAuthServer) -> None:
    provider = provider_for(oauth_server.oauth_settings())
    verifier = generate_code_verifier()
    url = provider.authorization_url(
        redirect_uri=oauth_server.redirect_uri, state="s", code_verifier=verifier
    )
    code, _ = oauth_server.authorize(url)
    with pytest.raises(OAuthError) as info:
        run(provider.exchange_code(code, redirect_uri=oauth_server.redirect_uri, code_verifier=None))
    assert info.value.error in {"invalid_request", "invalid_grant"}


def test_wrong_pkce_verifier_is_refused(oauth_server: OAuthServer) -> None:
    provider = provider_for(oauth_server.oauth_settings())
    url = provider.authorization_url(
        redirect_uri=oauth_server.redirect_uri, state="s", code_verifier=generate_code_verifier()
    )
    code, _ = oauth_server.authorize(url)
    with pytest.raises(OAuthError) as info:
        run(
            provider.exchange_code(
                code, redirect_uri=oauth_server.redirect_uri, code_verifier=generate_code_verifier()
            )
        )
    assert info.value.error == "invalid_grant"


def test_authorization_without_pkce_is_refused(oauth_server: OAuthServer) -> None:
    provider = provider_for(oauth_server.oauth_settings())
    url = provider.authorization_url(redirect_uri=oauth_server.redirect_uri, state="s", code_verifier=None)
    with pytest.raises(AssertionError, match=r"code_challenge|invalid_request"):
        oauth_server.authorize(url)


def test_code_cannot_be_used_twice(oauth_server: OAuthServer) -> None:
    provider = provider_for(oauth_server.oauth_settings())
    verifier = generate_code_verifier()
    url = provider.authorization_url(
        redirect_uri=oauth_server.redirect_uri, state="s", code_verifier=verifier
    )
    code, _ = oauth_server.authorize(url)
    run(provider.exchange_code(code, redirect_uri=oauth_server.redirect_uri, code_verifier=verifier))
    with pytest.raises(OAuthError) as info:
        run(provider.exchange_code(code, redirect_uri=oauth_server.redirect_uri, code_verifier=verifier))
    assert info.value.error == "invalid_grant"


def test_unreachable_token_endpoint_is_an_oauth_error(oauth_server: OAuthServer) -> None:
    settings = oauth_server.oauth_settings(client="service")
    custom = {"tokenUrl": {"value": "http://127.0.0.1:9/o/token/"}}
    with pytest.raises(OAuthError) as info:
        run(provider_for(settings.model_copy(update={"custom_parameters": custom})).client_credentials())
    assert info.value.error == "unreachable"
