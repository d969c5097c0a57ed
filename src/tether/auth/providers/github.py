"""GitHub OAuth apps and GitHub Apps (user-to-server tokens).

Quirks: the token endpoint answers form-encoded text unless asked for ``Accept: application/json``;
errors come back with HTTP 200 and an ``error`` field; ``expires_in`` and a refresh token appear only
when the app has token expiration enabled (otherwise the token lives until revoked, so
``TokenSet.expires_at`` is ``None``). PKCE S256 is supported (since 2025). Scopes are space-separated.
"""

from __future__ import annotations

from typing import Final

import httpx

from tether.auth.providers._base import Endpoints, OAuthProvider, Quirks
from tether.auth.providers._inputs import ProviderInputs

__all__ = ["GITHUB_ENDPOINTS", "build_github"]

GITHUB_ENDPOINTS: Final = Endpoints(
    authorization_url="https://github.com/login/oauth/authorize",
    token_url="https://github.com/login/oauth/access_token",
)
GITHUB_QUIRKS: Final = Quirks(token_headers={"Accept": "application/json"})


def build_github(inputs: ProviderInputs, http_client: httpx.AsyncClient | None) -> OAuthProvider:
    """A GitHub client (GitHub Enterprise Server: set ``customParameters.loginUri`` to its base URL)."""
    endpoints = GITHUB_ENDPOINTS
    base = inputs.value("loginUri")
    if base:
        base = base.rstrip("/")
        endpoints = Endpoints(
            authorization_url=f"{base}/login/oauth/authorize", token_url=f"{base}/login/oauth/access_token"
        )
    provider = OAuthProvider(
        client_id=inputs.client_id,
        client_secret=inputs.client_secret,
        endpoints=endpoints,
        scopes=inputs.scopes,
        quirks=GITHUB_QUIRKS,
        http_client=http_client,
    )
    provider.name = "github"
    return provider
