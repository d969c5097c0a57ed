"""The OAuth redirect-URI migration: per-connector URLs, the enforcement date, and the switch.

REFERENCE.md §1: connectors on the ``Global`` redirect URI share one URL; from an environment's
enforcement date on, such a connector refuses *new* connections (existing ones, refresh included,
keep working) until its owner switches it to ``GlobalPerConnector``, registers the new URL with
the OAuth app and removes the global one. The date is inclusive: on that day (UTC) it applies.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy.orm import Session

from tether.auth import normalize_redirect_mode, redirect_uri
from tether.definition import PROPERTIES_FILE, ApiProperties, package_from_files, parse_document
from tether.errors import Conflict, InputError
from tether.services._access import Principal, check, require_role, resolve_environment, standing
from tether.services._connection_parts import (
    connector_properties,
    find_connector,
    redirect_mode_of,
    redirect_url_for,
)
from tether.services._connectors import get_revision_files, update_connector
from tether.services._etags import check_if_match, resource_etag
from tether.services._network import check_network_allow
from tether.store import AuditLog, Connections, Connector, Database, Environment, EnvironmentSetting, utcnow

__all__ = [
    "ConnectorOAuth",
    "EnvironmentSettingsInfo",
    "RedirectMigrationRequired",
    "RedirectSwitch",
    "connector_oauth",
    "enforce_redirect_migration",
    "get_environment_settings",
    "set_environment_settings",
    "set_redirect_mode",
]


class RedirectMigrationRequired(Conflict):
    """A connector still on the Global redirect URI refuses new connections after the enforcement date."""

    code = "redirect-migration-required"


class _Unset:
    """Marks a setting the caller did not give (``None`` means "clear it")."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()


@dataclass(frozen=True, slots=True)
class EnvironmentSettingsInfo:
    """An environment's settings; ``oauth_global_redirect_enforcement`` is ``None`` when not set.

    ``network_allow`` lists the hosts and CIDRs its connectors may reach although the runtime's
    network policy refuses them by default (loopback, private networks); empty means none.
    """

    environment: str
    oauth_global_redirect_enforcement: date | None
    network_allow: tuple[str, ...] = ()
    encrypt_run_data: bool = False
    audit_retention_days: int | None = None
    # Connector names the environment's AI agents (MCP) may use; None: all of them.
    agent_connectors: tuple[str, ...] | None = None
    updated_at: datetime | None = None  # None: never changed (the defaults)
    etag: str = ""  # the ETag header's value; If-Match on a change checks it


@dataclass(frozen=True, slots=True)
class ConnectorOAuth:
    """A connector's OAuth redirect: the URL to register, and what to do when still on Global."""

    redirect_mode: str
    redirect_url: str
    steps: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RedirectSwitch:
    """The result of :func:`set_redirect_mode`: the new revision, the new URL and the steps left."""

    connector_id: str
    connector: str
    revision: int
    previous_mode: str | None
    redirect_mode: str
    redirect_url: str
    steps: tuple[str, ...]


def _settings_info(environment: Environment, found: EnvironmentSetting) -> EnvironmentSettingsInfo:
    return EnvironmentSettingsInfo(
        environment.name,
        found.oauth_global_redirect_enforcement,
        tuple(found.network_allow or ()),
        bool(found.encrypt_run_data),
        found.audit_retention_days,
        None if found.agent_connectors is None else tuple(found.agent_connectors),
        found.updated_at,
        _settings_etag(environment, found.updated_at),
    )


def _settings_etag(environment: Environment, updated_at: datetime | None) -> str:
    return resource_etag(f"environment:{environment.id}", updated_at)


def get_environment_settings(db: Database, principal: Principal, environment: str) -> EnvironmentSettingsInfo:
    """The environment's settings (any member may read them)."""
    with db.session() as session:
        env, _role = resolve_environment(session, principal, environment)
        found = Connections(session).settings(env.id)
        if found is None:
            return EnvironmentSettingsInfo(env.name, None, etag=_settings_etag(env, None))
        return _settings_info(env, found)


def set_environment_settings(
    db: Database,
    principal: Principal,
    environment: str,
    *,
    oauth_global_redirect_enforcement: date | _Unset | None = UNSET,
    network_allow: Sequence[str] | _Unset | None = UNSET,
    encrypt_run_data: bool | _Unset | None = UNSET,
    audit_retention_days: int | _Unset | None = UNSET,
    agent_connectors: Sequence[str] | _Unset | None = UNSET,
    if_match: str | None = None,
) -> EnvironmentSettingsInfo:
    """Change the settings given; the others keep their values (environment admins only).

    ``oauth_global_redirect_enforcement``: the day from which Global-redirect connectors refuse
    new connections (``None`` clears it). ``network_allow``: hosts (``api.local``, ``*.corp``)
    and addresses or CIDRs (``127.0.0.1``, ``10.0.0.0/8``) the environment's connectors may reach
    although the network policy refuses them by default (``None`` or ``[]`` clears it); every bad
    entry is reported at once. ``encrypt_run_data``: seal the inputs and outputs of runs started
    from now on with the key ring (runs already stored stay as they are; reads decrypt either).
    ``agent_connectors``: the names of the connectors AI agents (MCP) may use here (``None``: all).
    """
    allow = None if isinstance(network_allow, _Unset) else check_network_allow(network_allow or ())
    if isinstance(audit_retention_days, int) and not 1 <= audit_retention_days <= 36500:
        raise InputError(
            f"audit_retention_days must be between 1 and 36500 days, not {audit_retention_days}; "
            "omit it (null) for the default of 365."
        )
    with db.session() as session:
        env, role = resolve_environment(session, principal, environment)
        require_role(role, "admin", action="change environment settings")
        # Locked (FOR UPDATE on PostgreSQL) so that of two saves with one ETag only the first passes.
        existing = session.get(EnvironmentSetting, env.id, with_for_update=True)
        check_if_match(
            session,
            if_match,
            resource_id=f"environment:{env.id}",
            updated_at=existing.updated_at if existing is not None else None,
            what=f"The settings of environment {env.name!r}",
            target=f"environment:{env.id}",
        )
        found = Connections(session).settings_for_update(env.id)
        detail: dict[str, Any] = {}
        if not isinstance(oauth_global_redirect_enforcement, _Unset):
            found.oauth_global_redirect_enforcement = oauth_global_redirect_enforcement
            day = oauth_global_redirect_enforcement
            detail["oauth_global_redirect_enforcement"] = day.isoformat() if day else None
        if allow is not None:
            found.network_allow = list(allow) or None
            detail["network_allow"] = list(allow)
        if not isinstance(encrypt_run_data, _Unset):
            found.encrypt_run_data = bool(encrypt_run_data)
            detail["encrypt_run_data"] = bool(encrypt_run_data)
        if not isinstance(audit_retention_days, _Unset):
            found.audit_retention_days = audit_retention_days
            detail["audit_retention_days"] = audit_retention_days
        if not isinstance(agent_connectors, _Unset):
            names = None if agent_connectors is None else sorted({str(n) for n in agent_connectors})
            found.agent_connectors = names
            detail["agent_connectors"] = names
        found.updated_at, found.updated_by = utcnow(), principal.username
        AuditLog(session).record(
            "environment.settings",
            actor=principal.username,
            environment=env.id,
            target=f"environment:{env.id}",
            detail=detail,
            via=principal.via,
        )
        return _settings_info(env, found)


def enforce_redirect_migration(
    session: Session,
    environment: Environment,
    connector: Connector,
    properties: ApiProperties,
    public_url: str,
) -> None:
    """Refuse a new connection to a Global-redirect connector once the enforcement day has come."""
    if redirect_mode_of(properties) != "Global":
        return
    found = Connections(session).settings(environment.id)
    day = found.oauth_global_redirect_enforcement if found else None
    if day is None or utcnow().date() < day:
        return
    new_url = redirect_uri(public_url, "GlobalPerConnector", connector.id)
    raise RedirectMigrationRequired(
        f"Connector '{connector.name}' still uses the global OAuth redirect URI, which environment "
        f"'{environment.name}' stopped accepting for new connections on {day.isoformat()}. Fix: run "
        f"'tether connector update --env {environment.name} --cid {connector.name} --redirect-mode "
        f"GlobalPerConnector', register the new redirect URL {new_url} in the OAuth app, and remove the "
        f"global one ({public_url.rstrip('/')}/redirect). Existing connections keep working.",
        detail={"connector": connector.name, "redirect_url": new_url, "enforced_since": day.isoformat()},
    )


def connector_oauth(
    db: Database, principal: Principal, environment: str, connector: str, *, public_url: str
) -> ConnectorOAuth | None:
    """The redirect URL a connector's OAuth app must register (``None`` for a connector without OAuth)."""
    with db.session() as session:
        who = standing(session, principal, environment)
        env = who.environment
        found = find_connector(session, env, connector)
        label = f"Connector {connector!r}"
        check(session, who, "connector", "read", resource_id=found.id, owner_id=found.created_by, label=label)
        props = connector_properties(session, found)
        mode, url = redirect_mode_of(props), redirect_url_for(public_url, props, found.id)
        if mode is None or url is None:
            return None
        steps = _global_steps(env, found, public_url) if mode == "Global" else ()
        return ConnectorOAuth(redirect_mode=mode, redirect_url=url, steps=steps)


def set_redirect_mode(
    db: Database, principal: Principal, environment: str, connector: str, mode: str, *, public_url: str
) -> RedirectSwitch:
    """Write a new connector revision whose OAuth settings use redirect ``mode`` (makers and admins).

    Every ``oAuthSettings`` of the connector (top level and every parameter set) is changed, so a
    multi-auth connector moves as a whole. Returns the new URL and the steps left to the owner.
    """
    canonical = normalize_redirect_mode(mode)
    files = get_revision_files(db, principal, environment, connector)
    raw = files.get(PROPERTIES_FILE)
    data = parse_document(raw, name=PROPERTIES_FILE, format="json").data if raw else None
    if not isinstance(data, dict) or not _set_mode(data, canonical):
        raise InputError(
            f"Connector {connector!r} has no OAuth settings, so it has no redirect URL to change."
        )
    with db.session() as session:
        env, _role = resolve_environment(session, principal, environment)
        previous = redirect_mode_of(connector_properties(session, find_connector(session, env, connector)))
    package = package_from_files({**files, PROPERTIES_FILE: json.dumps(data, indent=2).encode()})
    info = update_connector(
        db, principal, environment, connector, package, note=f"OAuth redirect mode {previous} -> {canonical}"
    )
    url = redirect_uri(public_url, canonical, info.id)
    steps: tuple[str, ...] = (
        f"Register {url} as a redirect URI of the connector's OAuth app at the provider.",
        f"Remove the global redirect URI {public_url.rstrip('/')}/redirect from the app once no other "
        "connector relies on it.",
        "Existing connections keep working; new connections sign in through the new URL.",
    )
    if canonical == "Global":
        steps = (
            f"Register {url} at the provider; new connections will be refused after the enforcement date.",
        )
    return RedirectSwitch(info.id, info.name, info.current_revision, previous, canonical, url, steps)


def _global_steps(environment: Environment, connector: Connector, public_url: str) -> tuple[str, ...]:
    new_url = redirect_uri(public_url, "GlobalPerConnector", connector.id)
    return (
        f"Switch to a unique redirect URL: tether connector update --env {environment.name} "
        f"--cid {connector.name} --redirect-mode GlobalPerConnector",
        f"Register {new_url} in the OAuth app, then remove {public_url.rstrip('/')}/redirect.",
    )


def _set_mode(data: dict[str, Any], mode: str) -> bool:
    """Set ``redirectMode`` on every OAuth settings object in apiProperties; whether any was found."""
    properties = data.get("properties")
    if not isinstance(properties, dict):
        return False
    groups: list[Any] = [properties.get("connectionParameters")]
    sets = properties.get("connectionParameterSets")
    if isinstance(sets, dict) and isinstance(sets.get("values"), list):
        groups += [entry.get("parameters") for entry in sets["values"] if isinstance(entry, dict)]
    found = False
    for group in groups:
        for parameter in (group or {}).values() if isinstance(group, dict) else ():
            if not isinstance(parameter, dict):
                continue
            for key in ("oAuthSettings", "oauthSettings"):
                if isinstance(parameter.get(key), dict):
                    parameter[key]["redirectMode"] = mode
                    found = True
    return found
