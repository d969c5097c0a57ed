"""tether.auth's public names are pinned (the connections service codes against them)."""

from __future__ import annotations

import tether.auth

EXPECTED = [
    "CODE_VERIFIER_LENGTH",
    "DEFAULT_EXPIRY_SKEW",
    "DEFAULT_REDIRECT_MODE",
    "DEFAULT_REFRESH_WINDOW",
    "DEFAULT_STATE_MAX_AGE",
    "PROVIDER_BUILDERS",
    "REDIRECT_MODE_NAMES",
    "ApiKeyAuth",
    "BasicAuth",
    "BearerAuth",
    "ConsentState",
    "Endpoints",
    "ExpiredState",
    "InvalidState",
    "NoAuth",
    "OAuth2Auth",
    "OAuthError",
    "OAuthProvider",
    "OAuthSettingsLike",
    "Quirks",
    "RefreshingTokenSource",
    "StateSigner",
    "TokenEndpointTimeout",
    "TokenEndpointUnreachable",
    "TokenSet",
    "TokenSource",
    "create_s256_code_challenge",
    "generate_code_verifier",
    "make_nonce",
    "normalize_redirect_mode",
    "provider_for",
    "redirect_uri",
    "register_provider",
    "token_was_rejected",
]


def test_public_names_are_pinned() -> None:
    assert sorted(tether.auth.__all__) == sorted(EXPECTED)
    for name in tether.auth.__all__:
        assert hasattr(tether.auth, name), name


def test_oauth_error_is_a_tether_error() -> None:
    from tether.errors import TetherError

    assert issubclass(tether.auth.OAuthError, TetherError) and tether.auth.OAuthError.code == "oauth-error"
