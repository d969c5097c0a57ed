"""Salesforce: the token answer names the org's ``instance_url``, the base URL of every API call.

``instance_url`` (and ``id``, ``issued_at``) stay in ``TokenSet.extra``; Salesforce sends no
``expires_in`` (the session policy decides), so tokens are used until a 401 and then refreshed.
``loginUri`` selects sandboxes (``https://test.salesforce.com``) or a My Domain. PKCE S256 is supported.
"""

from __future__ import annotations

from typing import Final

import httpx

from tether.auth.providers._base import Endpoints, OAuthProvider
from tether.auth.providers._inputs import ProviderInputs

__all__ = ["DEFAULT_SALESFORCE_LOGIN", "build_salesforce", "salesforce_endpoints"]

DEFAULT_SALESFORCE_LOGIN: Final = "https://login.salesforce.com"


def salesforce_endpoints(login_uri: str = DEFAULT_SALESFORCE_LOGIN) -> Endpoints:
    """The OAuth endpoints under a Salesforce login host."""
    base = login_uri.rstrip("/")
    return Endpoints(
        authorization_url=f"{base}/services/oauth2/authorize", token_url=f"{base}/services/oauth2/token"
    )


def build_salesforce(inputs: ProviderInputs, http_client: httpx.AsyncClient | None) -> OAuthProvider:
    """A Salesforce client (production login unless ``loginUri`` says otherwise)."""
    provider = OAuthProvider(
        client_id=inputs.client_id,
        client_secret=inputs.client_secret,
        endpoints=salesforce_endpoints(inputs.value("loginUri") or DEFAULT_SALESFORCE_LOGIN),
        scopes=inputs.scopes,
        http_client=http_client,
    )
    provider.name = "salesforce"
    return provider
