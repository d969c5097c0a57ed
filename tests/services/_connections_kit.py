"""Connector packages of every auth type, and helpers for the connection tests."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from tether.auth import TokenSet
from tether.definition import ConnectorPackage, package_from_files
from tether.secrets import KeyRing
from tether.store import Connections, Database

PUBLIC_URL = "http://127.0.0.1:8765"


def package(
    title: str,
    parameters: dict[str, Any] | None = None,
    *,
    security: dict[str, Any] | None = None,
    host: str = "http://127.0.0.1:9",
    sets: list[dict[str, Any]] | None = None,
    paths: dict[str, Any] | None = None,
    capabilities: dict[str, Any] | None = None,
) -> ConnectorPackage:
    definition: dict[str, Any] = {
        "swagger": "2.0",
        "info": {"title": title, "version": "1"},
        "host": host.split("://")[-1],
        "schemes": [host.split("://")[0] if "://" in host else "https"],
        "basePath": "/",
        "paths": paths
        or {"/api/me": {"get": {"operationId": "Me", "responses": {"200": {"description": "ok"}}}}},
    }
    if security:
        definition["securityDefinitions"] = security
    if capabilities:
        definition["x-ms-capabilities"] = capabilities
    props: dict[str, Any] = {"properties": {"connectionParameters": parameters or {}}}
    if sets is not None:
        props["properties"]["connectionParameterSets"] = {"values": sets}
    return package_from_files(
        {
            "apiDefinition.swagger.json": json.dumps(definition).encode(),
            "apiProperties.json": json.dumps(props).encode(),
        }
    )


def secure(label: str, *, required: bool = True) -> dict[str, Any]:
    return {
        "type": "securestring",
        "uiDefinition": {"displayName": label, "constraints": {"required": str(required).lower()}},
    }


def text(label: str, *, required: bool = True, **constraints: Any) -> dict[str, Any]:
    return {
        "type": "string",
        "uiDefinition": {
            "displayName": label,
            "constraints": {"required": str(required).lower(), **constraints},
        },
    }


def api_key_package(location: str = "header", *, host: str = "http://127.0.0.1:9") -> ConnectorPackage:
    """An API-key connector; the default host is a closed local port (tests never leave the machine)."""
    return package(
        f"Key in {location}",
        {"api_key": secure("API key")},
        host=host,
        security={
            "key": {"type": "apiKey", "in": location, "name": "X-Api-Key" if location == "header" else "key"}
        },
    )


def basic_package() -> ConnectorPackage:
    return package(
        "Basic API",
        {"username": text("User name"), "password": secure("Password")},
        security={"basic": {"type": "basic"}},
    )


def bearer_package() -> ConnectorPackage:
    return package(
        "Bearer API",
        {"api_key": secure("Token")},
        security={"bearer": {"type": "apiKey", "in": "header", "name": "Authorization"}},
    )


def oauth_parameters(
    server: Any, *, client: str = "web", mode: str | None = "GlobalPerConnector"
) -> dict[str, Any]:
    settings = server.oauth_settings(client=client).model_dump(by_alias=True, exclude_none=True)
    if mode is None:
        settings.pop("redirectMode", None)
    else:
        settings["redirectMode"] = mode
    if client == "service":
        settings["customParameters"]["grantType"] = {"value": "client_credentials"}
    return {"token": {"type": "oauthSetting", "oAuthSettings": settings}}


def oauth_package(
    server: Any, *, client: str = "web", mode: str | None = "GlobalPerConnector"
) -> ConnectorPackage:
    return package(
        f"OAuth {client} {mode}", oauth_parameters(server, client=client, mode=mode), host=server.base_url
    )


def register_redirect(server: Any, uri: str) -> None:
    """Add a redirect URI to the test server's web client (its database is in the server's folder)."""
    path = server.log_path.parent / "oauth.sqlite3"
    parts = urlsplit(uri)  # RFC 8252: registered without a port, any loopback port matches
    with sqlite3.connect(path, timeout=30) as connection:
        connection.execute(
            "UPDATE oauth2_provider_application SET redirect_uris = redirect_uris || ' ' || ? "
            "WHERE client_id = ?",
            (urlunsplit(parts._replace(netloc=parts.hostname or "")), server.web_client_id),
        )


def stored_tokens(db: Database, ring: KeyRing, connection_id: str) -> TokenSet | None:
    with db.session() as session:
        row = Connections(session).get(connection_id)
        assert row is not None
        return TokenSet.from_dict(ring.decrypt_json(row.tokens)) if row.tokens else None


def expire_locally(db: Database, ring: KeyRing, connection_id: str) -> None:
    """Make the stored access token look expired to Tether (its expiry lives inside the ciphertext)."""
    with db.session() as session:
        row = Connections(session).get(connection_id)
        assert row is not None and row.tokens
        data = ring.decrypt_json(row.tokens)
        past = datetime.now(UTC) - timedelta(minutes=1)
        data["expires_at"] = past.isoformat()
        row.tokens, row.token_expires_at = ring.encrypt_json(data), past


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)
