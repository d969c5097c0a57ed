"""Consent state signing, redirect URIs, PKCE and TokenSet."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from itsdangerous import URLSafeTimedSerializer

from tether.auth import (
    ExpiredState,
    InvalidState,
    OAuthError,
    StateSigner,
    TokenSet,
    create_s256_code_challenge,
    generate_code_verifier,
    make_nonce,
    redirect_uri,
)
from tether.errors import InputError

PUBLIC = "https://tether.example.com/"


@pytest.mark.parametrize(
    ("mode", "configured", "expected"),
    [
        pytest.param("Global", None, "https://tether.example.com/redirect", id="global"),
        pytest.param("global", None, "https://tether.example.com/redirect", id="global-lower"),
        pytest.param(
            "GlobalPerConnector", None, "https://tether.example.com/redirect/c-1", id="per-connector"
        ),
        pytest.param(
            "globalperconnector", None, "https://tether.example.com/redirect/c-1", id="per-connector-lower"
        ),
        pytest.param(None, None, "https://tether.example.com/redirect/c-1", id="absent"),
        pytest.param("Direct", "https://mine.example/cb", "https://mine.example/cb", id="direct"),
        pytest.param("direct", ["https://a/cb", "https://b/cb"], "https://a/cb", id="direct-list"),
        pytest.param("Direct", None, "https://tether.example.com/redirect/c-1", id="direct-unconfigured"),
    ],
)
def test_redirect_uri(mode: str | None, configured, expected: str) -> None:
    assert redirect_uri(PUBLIC, mode, "c-1", configured=configured) == expected


def test_unknown_redirect_mode() -> None:
    with pytest.raises(InputError, match="GlobalPerConnector"):
        redirect_uri(PUBLIC, "PerUser", "c-1")


def test_state_round_trip() -> None:
    signer = StateSigner("k1")
    nonce = make_nonce()
    state = signer.sign(consent_id="c", user_id="u", nonce=nonce)
    payload = signer.verify(state)
    assert (payload.consent_id, payload.user_id, payload.nonce) == ("c", "u", nonce)
    assert payload.expires_at > datetime.now(UTC)
    assert make_nonce() != nonce and len(nonce) >= 43


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda s: s[:-2] + ("AA" if not s.endswith("AA") else "BB"), id="signature"),
        pytest.param(lambda s: "x" + s, id="payload"),
        pytest.param(
            lambda s: StateSigner("other-key").sign(consent_id="c", user_id="u", nonce="n"), id="other-key"
        ),
        pytest.param(lambda s: "", id="empty"),
        pytest.param(
            lambda s: URLSafeTimedSerializer("k1", salt="tether.oauth.state").dumps({"c": "c"}),
            id="incomplete-payload",
        ),
    ],
)
def test_tampered_state_is_refused(tamper) -> None:
    signer = StateSigner("k1")
    state = signer.sign(consent_id="c", user_id="u", nonce="n")
    with pytest.raises(InvalidState) as info:
        signer.verify(tamper(state))
    assert isinstance(info.value, OAuthError) and not isinstance(info.value, ExpiredState)
    assert info.value.code == "invalid-state"


def test_expired_state_by_payload() -> None:
    signer = StateSigner("k1")
    state = signer.sign(
        consent_id="c", user_id="u", nonce="n", expires_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    with pytest.raises(ExpiredState) as info:
        signer.verify(state)
    assert info.value.code == "expired-state" and info.value.error == "expired_state"


def test_expired_state_by_max_age() -> None:
    signer = StateSigner("k1")
    state = signer.sign(consent_id="c", user_id="u", nonce="n")
    time.sleep(1.1)
    with pytest.raises(ExpiredState):
        signer.verify(state, max_age=0.5)


def test_pkce_challenge_is_base64url_sha256_without_padding() -> None:
    import base64
    import hashlib

    verifier = generate_code_verifier()
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    assert create_s256_code_challenge(verifier) == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert set(verifier) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def test_token_set_from_response_and_storage_round_trip() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    tokens = TokenSet.from_response(
        {
            "access_token": "a",
            "refresh_token": "r",
            "token_type": "bearer",
            "expires_in": 3600,
            "scope": ["read", "write"],
            "instance_url": "https://i",
            "id_token": "x.y.z",
            "nested": {"a": 1},
        },
        now=now,
    )
    assert tokens.expires_at == now + timedelta(hours=1) and tokens.scope == "read write"
    assert tokens.extra == {"instance_url": "https://i"}
    assert TokenSet.from_dict(tokens.to_dict()) == tokens
    assert tokens.expires_soon(now=now + timedelta(minutes=59, seconds=30))
    assert not tokens.expires_soon(now=now + timedelta(minutes=58))
    assert not tokens.expires_soon(timedelta(0), now=now + timedelta(minutes=59, seconds=30))


def test_token_set_without_expiry_never_expires_soon() -> None:
    tokens = TokenSet.from_response({"access_token": "gho"})
    assert tokens.expires_at is None and not tokens.expires_soon(10**9)
    assert tokens.token_type == "Bearer"


@pytest.mark.parametrize(
    ("lifetime", "window"),
    [
        pytest.param(timedelta(seconds=30), timedelta(seconds=15), id="30s-token-renewed-at-half-life"),
        pytest.param(timedelta(minutes=8), timedelta(minutes=4), id="8min-token-at-half-life"),
        pytest.param(timedelta(hours=1), timedelta(minutes=5), id="hour-token-five-minutes-ahead"),
    ],
)
def test_refresh_window_is_the_shorter_of_five_minutes_and_half_the_lifetime(
    lifetime: timedelta, window: timedelta
) -> None:
    issued = datetime(2026, 1, 1, tzinfo=UTC)
    tokens = TokenSet(access_token="a", issued_at=issued, expires_at=issued + lifetime)
    assert tokens.refresh_window() == window
    assert not tokens.refresh_due(now=issued + lifetime - window - timedelta(seconds=1))
    assert tokens.refresh_due(now=issued + lifetime - window + timedelta(seconds=1))
    # Still usable for a request until its last moments (a tenth of its life, at most 5 s).
    margin = min(timedelta(seconds=5), lifetime / 10)
    assert tokens.usable(now=issued + lifetime - margin - timedelta(seconds=1))
    assert not tokens.usable(now=issued + lifetime)


def test_issued_at_survives_storage() -> None:
    tokens = TokenSet.from_response({"access_token": "a", "expires_in": 30})
    assert tokens.issued_at is not None and TokenSet.from_dict(tokens.to_dict()) == tokens
