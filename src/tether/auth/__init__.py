"""Authentication: credential schemes for API calls, OAuth 2.0 clients and providers, consent state.

Sits between ``runtime`` and ``secrets`` (DESIGN.md). Pure of the database; its only I/O is HTTP to
token endpoints, through httpx (authlib's ``AsyncOAuth2Client``). Storing tokens, locking refreshes
across processes and enforcing single-use consent state belong to the connections service above.
"""

from __future__ import annotations

from tether.auth._errors import (
    ExpiredState,
    InvalidState,
    OAuthError,
    TokenEndpointTimeout,
    TokenEndpointUnreachable,
)
from tether.auth._pkce import CODE_VERIFIER_LENGTH, create_s256_code_challenge, generate_code_verifier
from tether.auth._redirect import (
    DEFAULT_REDIRECT_MODE,
    REDIRECT_MODE_NAMES,
    normalize_redirect_mode,
    redirect_uri,
)
from tether.auth._state import DEFAULT_STATE_MAX_AGE, ConsentState, StateSigner, make_nonce
from tether.auth._token_source import RefreshingTokenSource
from tether.auth._tokens import DEFAULT_EXPIRY_SKEW, DEFAULT_REFRESH_WINDOW, TokenSet
from tether.auth.providers import (
    PROVIDER_BUILDERS,
    Endpoints,
    OAuthProvider,
    OAuthSettingsLike,
    Quirks,
    provider_for,
    register_provider,
)
from tether.auth.schemes import (
    ApiKeyAuth,
    BasicAuth,
    BearerAuth,
    NoAuth,
    OAuth2Auth,
    TokenSource,
    token_was_rejected,
)

__all__ = [
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
