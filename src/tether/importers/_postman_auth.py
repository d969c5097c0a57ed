"""Postman auth to Swagger ``securityDefinitions`` and Power Platform connection parameters.

Postman stores credentials beside the requests; a connector must not. Each distinct auth
in effect somewhere in the collection becomes one security scheme plus the connection
parameters that ask the *connection's owner* for the secret (the shapes Microsoft's own
connectors use: ``api_key``, ``username``/``password``, ``token``). Secrets in the
collection (passwords, tokens, client secrets) are never copied. Several distinct auths
become ``connectionParameterSets`` so the user picks one when connecting.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from tether.importers._postman_url import PLACEHOLDER
from tether.importers._result import ReportKind

__all__ = ["SUPPORTED_AUTH", "AuthScheme", "map_auth"]

SUPPORTED_AUTH = ("apikey", "basic", "bearer", "oauth2")
_URL = re.compile(r"^https?://[^\s/]+", re.IGNORECASE)
_AUTH_CODE = {"authorization_code", "authorization_code_with_pkce"}
_DISPLAY = {"api_key": "API key", "basic_auth": "Basic authentication", "bearer_token": "Bearer token"}


@dataclass
class AuthScheme:
    """One auth of the collection mapped: its security definition and connection parameters."""

    name: str
    definition: dict[str, Any]
    parameters: dict[str, Any]
    scopes: list[str]
    display: str
    notes: list[tuple[ReportKind, str]] = field(default_factory=list)


def auth_key(auth: dict[str, Any]) -> str:
    """Identity of an auth for de-duplication: its type and non-secret settings."""
    kept = {k: v for k, v in auth.items() if k not in ("value", "password", "token", "clientSecret")}
    return json.dumps(kept, sort_keys=True, default=str)


def map_auth(auth: dict[str, Any], variables: dict[str, str], taken: set[str]) -> AuthScheme | str:
    """Map one normalised auth; a string is the reason it cannot be mapped."""
    kind = str(auth.get("type"))
    if kind == "apikey":
        return _api_key(auth, variables, taken)
    if kind == "basic":
        return AuthScheme(
            _unique("basic_auth", taken),
            {"type": "basic"},
            {
                "username": _secure("Username", "The user name for this API", tab=2, clear=True),
                "password": _secure("Password", "The password for this API", tab=3, clear=False),
            },
            [],
            _DISPLAY["basic_auth"],
        )
    if kind == "bearer":
        scheme = AuthScheme(
            _unique("bearer_token", taken),
            # Swagger 2.0 has no bearer scheme; x-tether-bearer makes Tether send "Bearer <token>".
            {"type": "apiKey", "in": "header", "name": "Authorization", "x-tether-bearer": True},
            {"api_key": _secure("Bearer token", "Your token (or 'Bearer <token>')", tab=2, clear=False)},
            [],
            _DISPLAY["bearer_token"],
        )
        scheme.notes.append(
            (
                "approximation",
                "bearer auth is an API key in the Authorization header: Tether sends 'Bearer <token>'; "
                "on Power Platform enter 'Bearer <token>'",
            )
        )
        return scheme
    if kind == "oauth2":
        return _oauth2(auth, variables, taken)
    return f"{kind} auth has no Power Platform counterpart; requests using it are left without security"


def _api_key(auth: dict[str, Any], variables: dict[str, str], taken: set[str]) -> AuthScheme | str:
    key = _resolve(auth.get("key"), variables)
    where = str(auth.get("in") or "header").lower()
    if not key:
        return "the API key auth names no header or query parameter (or only an unknown {{variable}})"
    if where not in ("header", "query"):
        return f"the API key auth is sent in {where!r}; only header and query are supported"
    place = "header" if where == "header" else "query parameter"
    return AuthScheme(
        _unique("api_key", taken),
        {"type": "apiKey", "in": where, "name": key},
        {"api_key": _secure("API Key", f"The API key, sent in the {key} {place}", tab=2, clear=False)},
        [],
        f"API key ({key})",
    )


def _oauth2(auth: dict[str, Any], variables: dict[str, str], taken: set[str]) -> AuthScheme | str:
    grant = str(auth.get("grant_type") or "authorization_code")
    if grant not in _AUTH_CODE and grant != "client_credentials":
        return (
            f"OAuth 2.0 grant {grant!r} is not supported by connectors "
            "(use authorization code, with or without PKCE, or client credentials)"
        )
    notes: list[tuple[ReportKind, str]] = []
    token_url = _resolve(auth.get("accessTokenUrl"), variables)
    auth_url = _resolve(auth.get("authUrl"), variables)
    refresh_url = _resolve(auth.get("refreshTokenUrl"), variables) or token_url
    scopes = [s for s in re.split(r"[\s,]+", _resolve(auth.get("scope"), variables)) if s]
    custom: dict[str, Any] = {}
    if grant == "client_credentials":
        definition: dict[str, Any] = {"type": "oauth2", "flow": "application", "tokenUrl": token_url}
        custom["grantType"] = {"value": "client_credentials"}
        notes.append(("info", "client credentials grant: Tether supports it, Power Platform does not"))
    else:
        definition = {
            "type": "oauth2",
            "flow": "accessCode",
            "authorizationUrl": auth_url,
            "tokenUrl": token_url,
        }
        custom["authorizationUrl"] = {"value": auth_url}
    definition["scopes"] = {scope: scope for scope in scopes}
    custom["tokenUrl"] = {"value": token_url}
    custom["refreshUrl"] = {"value": refresh_url}
    if grant == "authorization_code_with_pkce":
        method = str(auth.get("challengeAlgorithm") or "S256")
        custom["codeChallengeMethod"] = {"value": method}
        notes.append(("info", f"PKCE ({method}) is kept in customParameters.codeChallengeMethod for Tether"))
    for label, url in (("authorization", auth_url), ("token", token_url)):
        if label == "authorization" and grant == "client_credentials":
            continue
        if not _URL.match(url):
            # Swagger requires absolute URLs here, and a connection could never sign in anyway.
            shown = repr(url) if url else "missing (or an unknown {{variable}})"
            return (
                f"the OAuth 2.0 {label} URL is {shown}, not an absolute http(s) URL; the auth was not mapped"
            )
    settings: dict[str, Any] = {"identityProvider": "oauth2"}
    client_id = _resolve(auth.get("clientId"), variables)
    if client_id:
        settings["clientId"] = client_id
    else:
        notes.append(
            ("warning", "no client id (or only an unknown {{variable}}); set oAuthSettings.clientId")
        )
    if auth.get("clientSecret"):
        notes.append(("info", "the client secret was not copied; give it when deploying the connector"))
    settings.update({"scopes": scopes, "redirectMode": "GlobalPerConnector", "customParameters": custom})
    if str(auth.get("addTokenTo") or "header") != "header":
        notes.append(
            ("approximation", "the token was added to the query in Postman; connectors send a header")
        )
    prefix = auth.get("headerPrefix")
    if isinstance(prefix, str) and prefix.strip() and prefix.strip().lower() != "bearer":
        notes.append(("approximation", f"header prefix {prefix!r} is not kept; connectors send 'Bearer'"))
    for extra in ("audience", "resource"):
        if auth.get(extra):
            notes.append(("unsupported", f"the OAuth 2.0 {extra!r} setting was not mapped"))
    label = "client credentials" if grant == "client_credentials" else "authorization code"
    if grant == "authorization_code_with_pkce":
        label += " with PKCE"
    parameter = {
        "type": "oauthSetting",
        "oAuthSettings": settings,
        "uiDefinition": {
            "displayName": "Login with your credentials",
            "description": "Login with your credentials",
            "tooltip": "Provide your credentials",
            "constraints": {"required": "true"},
        },
    }
    return AuthScheme(
        _unique("oauth2", taken), definition, {"token": parameter}, scopes, f"OAuth 2.0 ({label})", notes
    )


def _secure(display: str, description: str, *, tab: int, clear: bool) -> dict[str, Any]:
    return {
        "type": "securestring",
        "uiDefinition": {
            "displayName": display,
            "description": description,
            "tooltip": f"Provide your {display.lower()}",
            "constraints": {"tabIndex": tab, "clearText": clear, "required": "true"},
        },
    }


def _resolve(value: Any, variables: dict[str, str]) -> str:
    """A setting with known ``{{variables}}`` replaced; empty when something stays unknown."""
    if not isinstance(value, str):
        return ""
    text = PLACEHOLDER.sub(lambda m: variables.get(m.group(1), m.group(0)), value).strip()
    return "" if PLACEHOLDER.search(text) else text


def _unique(base: str, taken: set[str]) -> str:
    name, number = base, 2
    while name in taken:
        name, number = f"{base}_{number}", number + 1
    taken.add(name)
    return name
