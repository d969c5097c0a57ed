"""Google: a refresh token only with ``access_type=offline``, and again on re-consent only with
``prompt=consent`` (otherwise a second sign-in returns no refresh token). PKCE S256 is supported."""

from __future__ import annotations

from typing import Final

import httpx

from tether.auth.providers._base import Endpoints, OAuthProvider, Quirks
from tether.auth.providers._inputs import ProviderInputs

__all__ = ["GOOGLE_ENDPOINTS", "build_google"]

GOOGLE_ENDPOINTS: Final = Endpoints(
    authorization_url="https://accounts.google.com/o/oauth2/v2/auth",
    token_url="https://oauth2.googleapis.com/token",
)
GOOGLE_QUIRKS: Final = Quirks(
    authorize_params={"access_type": "offline", "prompt": "consent", "include_granted_scopes": "true"}
)


def build_google(inputs: ProviderInputs, http_client: httpx.AsyncClient | None) -> OAuthProvider:
    """A Google client with offline access."""
    provider = OAuthProvider(
        client_id=inputs.client_id,
        client_secret=inputs.client_secret,
        endpoints=GOOGLE_ENDPOINTS,
        scopes=inputs.scopes,
        quirks=GOOGLE_QUIRKS,
        http_client=http_client,
    )
    provider.name = "google"
    return provider
