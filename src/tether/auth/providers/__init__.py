"""OAuth 2.0 providers: a registry from ``identityProvider`` names to builders, one module per family.

    provider = provider_for(oauth_settings, {"token:customHost": ".eu"})
    url = provider.authorization_url(redirect_uri=..., state=..., code_verifier=...)
    tokens = await provider.exchange_code(code, redirect_uri=..., code_verifier=...)

Names match case-insensitively. An unknown name (``facebook``, ``DocuSign``…) falls back to the generic
``oauth2`` client when the settings name a ``tokenUrl``, and is otherwise an ``InputError`` naming it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import httpx

from tether.auth.providers._base import DEFAULT_QUIRKS, Endpoints, OAuthProvider, Quirks
from tether.auth.providers._inputs import OAuthSettingsLike, ProviderInputs
from tether.auth.providers.aad import build_aad
from tether.auth.providers.aadcertificate import build_aadcertificate
from tether.auth.providers.dropbox import build_dropbox
from tether.auth.providers.github import build_github
from tether.auth.providers.google import build_google
from tether.auth.providers.oauth2 import build_oauth2, has_explicit_urls
from tether.auth.providers.oauth2generic import build_oauth2generic
from tether.auth.providers.salesforce import build_salesforce
from tether.auth.providers.slack import build_slack
from tether.errors import InputError

__all__ = [
    "DEFAULT_QUIRKS",
    "PROVIDER_BUILDERS",
    "Endpoints",
    "OAuthProvider",
    "OAuthSettingsLike",
    "ProviderBuilder",
    "ProviderInputs",
    "Quirks",
    "provider_for",
    "register_provider",
]

ProviderBuilder = Callable[[ProviderInputs, "httpx.AsyncClient | None"], OAuthProvider]

# Lower-case identityProvider name -> builder.
PROVIDER_BUILDERS: dict[str, ProviderBuilder] = {
    "oauth2": build_oauth2,
    "oauth2generic": build_oauth2generic,
    "aad": build_aad,
    "aadcertificate": build_aadcertificate,
    "github": build_github,
    "dropbox": build_dropbox,
    "salesforce": build_salesforce,
    "google": build_google,
    "slack": build_slack,
}


def register_provider(name: str, builder: ProviderBuilder) -> None:
    """Add (or replace) the builder for an ``identityProvider`` name."""
    PROVIDER_BUILDERS[name.strip().lower()] = builder


def provider_for(
    oauth_settings: OAuthSettingsLike,
    parameters: Mapping[str, Any] | None = None,
    *,
    http_client: httpx.AsyncClient | None = None,
) -> OAuthProvider:
    """The OAuth client for a connector's ``oAuthSettings`` and one connection's parameter values.

    ``parameters`` are the connection's values by parameter name (``token:customHost``...): templates
    and URL overrides read them. ``http_client`` shares a connection pool (and a transport in tests).
    """
    inputs = ProviderInputs.build(oauth_settings, parameters)
    name = inputs.identity_provider.lower() or "oauth2"
    builder = PROVIDER_BUILDERS.get(name)
    if builder is None:
        if not has_explicit_urls(inputs):
            known = ", ".join(sorted(PROVIDER_BUILDERS))
            raise InputError(
                f"identity provider {inputs.identity_provider!r} is not supported and the connector gives "
                f"no tokenUrl to use it as generic OAuth 2.0; use one of: {known}, or add "
                "customParameters authorizationUrl/tokenUrl",
                detail={"identityProvider": inputs.identity_provider, "choices": sorted(PROVIDER_BUILDERS)},
            )
        builder = build_oauth2
    return builder(inputs, http_client)
