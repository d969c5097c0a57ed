"""``identityProvider: aad``: Microsoft Entra ID (Azure AD), 56 corpus connectors.

``customParameters``: ``loginUri`` (default ``https://login.microsoftonline.com``; the corpus often has
``https://login.windows.net``, an alias that still works), ``tenantId`` (default ``common``; a
``tenantId`` connection parameter overrides it, as ``token:TenantId`` in the corpus does) and
``resourceUri``. Which endpoint family:

* **v1** (``/oauth2/authorize``, ``/oauth2/token`` with ``resource=``) when the connector has a
  ``resourceUri`` and no scopes: the way most corpus connectors are written.
* **v2** (``/oauth2/v2.0/...`` with ``scope=``) when it has scopes. A bare scope such as
  ``Group.ReadWrite.All`` is qualified with the resource (``https://graph.microsoft.com/Group.ReadWrite.All``),
  because v2 needs the resource in the scope; ``offline_access`` is added so a refresh token comes back.
"""

from __future__ import annotations

from typing import Final

import httpx

from tether.auth.providers._base import Endpoints, OAuthProvider, Quirks
from tether.auth.providers._inputs import ProviderInputs

__all__ = ["DEFAULT_LOGIN_URI", "DEFAULT_TENANT", "aad_settings", "build_aad"]

DEFAULT_LOGIN_URI: Final = "https://login.microsoftonline.com"
DEFAULT_TENANT: Final = "common"
# Scopes v2 understands without a resource prefix (OpenID Connect and refresh).
_BARE_SCOPES: Final = frozenset({"openid", "profile", "email", "offline_access"})


def _qualify(scope: str, resource: str | None) -> str:
    if scope in _BARE_SCOPES or "://" in scope or scope.startswith("api:") or not resource:
        return scope
    return f"{resource.rstrip('/')}/{scope}"


def aad_settings(inputs: ProviderInputs) -> tuple[Endpoints, list[str], Quirks]:
    """Endpoints, scopes and quirks of an Entra ID connector (shared with ``aadcertificate``)."""
    login = (inputs.value("loginUri") or inputs.value("loginUriAAD") or DEFAULT_LOGIN_URI).rstrip("/")
    tenant = inputs.value("tenantId") or DEFAULT_TENANT
    resource = inputs.value("resourceUri")
    # "Group.ReadWrite.All offline_access" in one string is two scopes.
    scopes = [part for scope in inputs.scopes for part in scope.split()]
    if scopes or not resource:
        wanted = [_qualify(s, resource) for s in scopes]
        if "offline_access" not in wanted:
            wanted.append("offline_access")
        base = f"{login}/{tenant}/oauth2/v2.0"
        return Endpoints(token_url=f"{base}/token", authorization_url=f"{base}/authorize"), wanted, Quirks()
    base = f"{login}/{tenant}/oauth2"
    quirks = Quirks(authorize_params={"resource": resource}, token_params={"resource": resource})
    return Endpoints(token_url=f"{base}/token", authorization_url=f"{base}/authorize"), [], quirks


def build_aad(inputs: ProviderInputs, http_client: httpx.AsyncClient | None) -> OAuthProvider:
    """An Entra ID client with a client secret (PKCE S256 is supported and sent)."""
    endpoints, scopes, quirks = aad_settings(inputs)
    provider = OAuthProvider(
        client_id=inputs.client_id,
        client_secret=inputs.client_secret,
        endpoints=endpoints,
        scopes=scopes,
        quirks=quirks,
        http_client=http_client,
    )
    provider.name = "aad"
    return provider
