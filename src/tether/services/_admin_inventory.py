"""The admin's inventory of custom connectors: who made what, how it authenticates, where it redirects.

The redirect-URI migration (REFERENCE.md §1) needs one question answered across environments:
which custom connectors still have an OAuth parameter on the ``Global`` redirect URI, and who
owns them. Each row therefore lists every OAuth parameter (top level and each multi-auth set)
with its identity provider and redirect mode, besides the connector's creator, auth types and
connections. Environment admins see their environments; platform admins may ask for all.
Built-in connectors are not custom connectors and are left out.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tether.auth import normalize_redirect_mode
from tether.definition import DEFINITION_FILE, PROPERTIES_FILE, ApiProperties, parse_api_properties
from tether.errors import InputError, PermissionDenied, TetherError
from tether.services._access import Principal, require_role, standing
from tether.services._builtin_packages import is_builtin
from tether.services._certification import certification_states
from tether.store import Connection, Connector, Connectors, Database, Environment, Environments

__all__ = [
    "AUTH_TYPES",
    "REDIRECT_MODES",
    "ConnectorInventoryItem",
    "InventoryPage",
    "OAuthParameterInfo",
    "list_connector_inventory",
]

AUTH_TYPES: Final = ("none", "apiKey", "basic", "oauth2")
REDIRECT_MODES: Final = ("Global", "GlobalPerConnector", "Direct")
MAX_PAGE: Final = 500


@dataclass(frozen=True, slots=True)
class OAuthParameterInfo:
    """One OAuth connection parameter: where it is declared, its provider and its redirect mode."""

    parameter_set: str | None
    parameter: str
    identity_provider: str | None
    redirect_mode: str


@dataclass(frozen=True, slots=True)
class ConnectorInventoryItem:
    """One custom connector as the admin inventory shows it (no secret, no file content)."""

    id: str
    name: str
    display_name: str
    environment: str
    creator: str | None
    creator_name: str | None
    creator_email: str | None
    created_at: datetime
    updated_at: datetime
    auth_types: tuple[str, ...]
    oauth_parameters: tuple[OAuthParameterInfo, ...]
    connection_count: int
    last_used_at: datetime | None
    certification: str


@dataclass(frozen=True, slots=True)
class InventoryPage:
    """A page of the inventory and how many connectors matched in all."""

    items: tuple[ConnectorInventoryItem, ...]
    total: int
    skip: int
    top: int


def list_connector_inventory(
    db: Database,
    principal: Principal,
    environment: str | None = None,
    *,
    auth_type: str | None = None,
    redirect_mode: str | None = None,
    creator: str | None = None,
    skip: int = 0,
    top: int = 100,
) -> InventoryPage:
    """Every custom connector of ``environment`` (environment admins), or of all (platform admins).

    Filters: ``auth_type`` (one of :data:`AUTH_TYPES`), ``redirect_mode`` (a connector with at
    least one OAuth parameter on that mode), ``creator`` (user name or email). Sorted by
    environment then name; ``skip``/``top`` page through the result.
    """
    wanted_auth = _auth_filter(auth_type)
    wanted_mode = normalize_redirect_mode(redirect_mode) if redirect_mode else None
    if skip < 0 or not 1 <= top <= MAX_PAGE:
        raise InputError(f"Paging needs skip >= 0 and 1 <= top <= {MAX_PAGE}.")
    with db.session() as session:
        environments = _environments(session, principal, environment)
        items = [
            item
            for env in environments
            for item in _items(session, env)
            if (wanted_auth is None or wanted_auth in item.auth_types)
            and (wanted_mode is None or any(p.redirect_mode == wanted_mode for p in item.oauth_parameters))
            and (
                creator is None
                or creator.lower() in {(item.creator or "").lower(), (item.creator_email or "").lower()}
            )
        ]
    return InventoryPage(items=tuple(items[skip : skip + top]), total=len(items), skip=skip, top=top)


def _auth_filter(auth_type: str | None) -> str | None:
    if auth_type is None:
        return None
    for known in AUTH_TYPES:
        if known.lower() == auth_type.strip().lower():
            return known
    raise InputError(f"Unknown auth type {auth_type!r}: use one of {', '.join(AUTH_TYPES)}.")


def _environments(session: Session, principal: Principal, environment: str | None) -> list[Environment]:
    if environment is not None:
        who = standing(session, principal, environment)
        require_role(who.role, "admin", action="see the connector inventory")
        return [who.environment]
    if not principal.is_admin:
        raise PermissionDenied(
            "Only platform administrators can see every environment's connectors; "
            "environment admins: name one environment (--env)."
        )
    return sorted(Environments(session).list(), key=lambda env: env.name)


def _items(session: Session, environment: Environment) -> list[ConnectorInventoryItem]:
    connectors = [c for c in Connectors(session).list(environment.id) if not is_builtin(c)]
    counts = dict(
        session.execute(
            select(Connection.connector_id, func.count())
            .where(Connection.environment_id == environment.id)
            .group_by(Connection.connector_id)
        ).all()
    )
    states = certification_states(session, [connector.id for connector in connectors])
    return [
        _item(session, environment, connector, int(counts.get(connector.id, 0)), states[connector.id])
        for connector in connectors
    ]


def _item(
    session: Session, environment: Environment, connector: Connector, connections: int, certification: str
) -> ConnectorInventoryItem:
    files = _current_files(session, connector)
    properties = _properties(files.get(PROPERTIES_FILE))
    oauth = _oauth_parameters(properties)
    creator = connector.creator
    return ConnectorInventoryItem(
        id=connector.id,
        name=connector.name,
        display_name=connector.display_name,
        environment=environment.name,
        creator=creator.username if creator else None,
        creator_name=creator.display_name if creator else None,
        creator_email=creator.email if creator else None,
        created_at=connector.created_at,
        updated_at=connector.updated_at,
        auth_types=_auth_types(properties, files.get(DEFINITION_FILE)),
        oauth_parameters=oauth,
        connection_count=connections,
        # Tether records no per-call use of a connection yet; kept in the shape for when it does.
        last_used_at=None,
        certification=certification,
    )


def _current_files(session: Session, connector: Connector) -> dict[str, bytes]:
    repository = Connectors(session)
    revision = repository.revision(connector.id, connector.current_revision)
    return repository.files(revision) if revision is not None else {}


def _properties(raw: bytes | None) -> ApiProperties | None:
    if not raw:
        return None
    try:
        return parse_api_properties(json.loads(raw), name=PROPERTIES_FILE)
    except (ValueError, TetherError):
        return None  # a stored revision passed validation once; an unreadable one lists no auth


def _oauth_parameters(properties: ApiProperties | None) -> tuple[OAuthParameterInfo, ...]:
    if properties is None:
        return ()
    found = []
    for set_name, key, parameter in properties.properties.iter_connection_parameters():
        settings = parameter.oauth_settings()
        if settings is None:
            continue
        try:
            mode = normalize_redirect_mode(settings.redirect_mode)
        except InputError:
            mode = normalize_redirect_mode(None)
        found.append(OAuthParameterInfo(set_name, key, settings.identity_provider, mode))
    return tuple(found)


def _auth_types(properties: ApiProperties | None, swagger: bytes | None) -> tuple[str, ...]:
    """The ways to connect: from each parameter set's parameters, then the definition's security."""
    kinds: list[str] = []
    groups: dict[str | None, list[tuple[str, Any]]] = {}
    if properties is not None:
        for set_name, key, parameter in properties.properties.iter_connection_parameters():
            groups.setdefault(set_name, []).append((key, parameter))
    for parameters in groups.values():
        names = {key.lower() for key, _ in parameters}
        if any(p.oauth_settings() is not None for _, p in parameters):
            kinds.append("oauth2")
        elif {"username", "password"} <= names:
            kinds.append("basic")
        elif any(p.is_secret for _, p in parameters):
            kinds.append("apiKey")
    kinds += _security_kinds(swagger)
    unique = [kind for kind in AUTH_TYPES if kind in kinds]
    return tuple(unique) or ("none",)


def _security_kinds(swagger: bytes | None) -> Sequence[str]:
    try:
        document = json.loads(swagger) if swagger else {}
    except ValueError:
        return ()
    definitions = document.get("securityDefinitions") if isinstance(document, dict) else None
    if not isinstance(definitions, dict):
        return ()
    names = {"apikey": "apiKey", "basic": "basic", "oauth2": "oauth2"}
    return [
        names[str(d.get("type", "")).lower()]
        for d in definitions.values()
        if isinstance(d, dict) and str(d.get("type", "")).lower() in names
    ]
