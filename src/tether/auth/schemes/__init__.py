"""Credential schemes: one ``httpx.Auth`` per way an API authenticates (``NoAuth`` for none)."""

from __future__ import annotations

from tether.auth.schemes.api_key import API_KEY_LOCATIONS, ApiKeyAuth
from tether.auth.schemes.basic import BasicAuth
from tether.auth.schemes.bearer import BearerAuth
from tether.auth.schemes.none import NoAuth
from tether.auth.schemes.oauth2 import OAuth2Auth, TokenSource, token_was_rejected

__all__ = [
    "API_KEY_LOCATIONS",
    "ApiKeyAuth",
    "BasicAuth",
    "BearerAuth",
    "NoAuth",
    "OAuth2Auth",
    "TokenSource",
    "token_was_rejected",
]
