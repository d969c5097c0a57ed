"""``identityProvider: oauth2``: explicit URLs in ``customParameters`` (148 corpus connectors).

    "customParameters": {"authorizationUrl": {"value": "https://x/oauth/authorize"},
                         "tokenUrl": {"value": "https://x/oauth/token"},
                         "refreshUrl": {"value": "https://x/oauth/token"}}

Key case varies in the corpus (``AuthorizationUrl``); ``ProviderInputs`` ignores it. A connection
parameter of the same name overrides the connector's value, so instance-specific hosts work.
"""

from __future__ import annotations

import httpx

from tether.auth.providers._base import Endpoints, OAuthProvider
from tether.auth.providers._inputs import ProviderInputs
from tether.errors import InputError

__all__ = ["build_oauth2", "has_explicit_urls"]


def has_explicit_urls(inputs: ProviderInputs) -> bool:
    """Whether the settings name a token URL, so a generic OAuth 2.0 client can be built from them."""
    return bool(inputs.value("tokenUrl"))


def build_oauth2(inputs: ProviderInputs, http_client: httpx.AsyncClient | None) -> OAuthProvider:
    """A plain RFC 6749 client (PKCE S256 sent: servers that do not know it ignore it)."""
    token_url = inputs.value("tokenUrl")
    if not token_url:
        raise InputError(
            f"identity provider {inputs.identity_provider or 'oauth2'!r} needs customParameters.tokenUrl",
            detail={"identityProvider": inputs.identity_provider, "missing": "tokenUrl"},
        )
    endpoints = Endpoints(
        token_url=token_url,
        authorization_url=inputs.value("authorizationUrl"),
        refresh_url=inputs.value("refreshUrl"),
    )
    provider = OAuthProvider(
        client_id=inputs.client_id,
        client_secret=inputs.client_secret,
        endpoints=endpoints,
        scopes=inputs.scopes,
        http_client=http_client,
    )
    provider.name = inputs.identity_provider or "oauth2"
    return provider
