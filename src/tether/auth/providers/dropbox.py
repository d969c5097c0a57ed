"""Dropbox: short-lived access tokens; a refresh token only with ``token_access_type=offline``.

Dropbox does not rotate refresh tokens (the refresh answer has none; the old one is kept). PKCE S256
is supported.
"""

from __future__ import annotations

from typing import Final

import httpx

from tether.auth.providers._base import Endpoints, OAuthProvider, Quirks
from tether.auth.providers._inputs import ProviderInputs

__all__ = ["DROPBOX_ENDPOINTS", "build_dropbox"]

DROPBOX_ENDPOINTS: Final = Endpoints(
    authorization_url="https://www.dropbox.com/oauth2/authorize",
    token_url="https://api.dropboxapi.com/oauth2/token",
)
DROPBOX_QUIRKS: Final = Quirks(authorize_params={"token_access_type": "offline"})


def build_dropbox(inputs: ProviderInputs, http_client: httpx.AsyncClient | None) -> OAuthProvider:
    """A Dropbox client asking for offline access (so connections outlive the 4-hour access token)."""
    provider = OAuthProvider(
        client_id=inputs.client_id,
        client_secret=inputs.client_secret,
        endpoints=DROPBOX_ENDPOINTS,
        scopes=inputs.scopes,
        quirks=DROPBOX_QUIRKS,
        http_client=http_client,
    )
    provider.name = "dropbox"
    return provider
