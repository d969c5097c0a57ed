"""Connector use cases: create, update, read, delete, and roll back to an earlier revision.

Every change adds a numbered revision; revisions are never rewritten, so "what ran last Tuesday"
can always be downloaded. A rollback is a *new* revision with old content, not a rewind.
Functions take and return plain data (``dict[str, bytes]`` files, frozen dataclasses), never ORM rows.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy.orm import Session

from tether.definition import (
    PROPERTIES_FILE,
    ConnectorPackage,
    is_placeholder_client_id,
    package_from_files,
)
from tether.errors import Conflict, InputError, NotFound
from tether.secrets import KeyRing
from tether.services._access import Principal, Standing, check, require_role, resolve_environment, standing
from tether.services._builtin_packages import (
    BUILTIN_CONNECTORS,
    ensure_builtin_connectors,
    find_connector_row,
    is_builtin,
    refuse_builtin_change,
)
from tether.services._client_secrets import mask_client_secrets, seal_client_secrets
from tether.services._destination import destination_changes
from tether.services._etags import check_if_match
from tether.services._events import Subject, record_event
from tether.services._names import check_slug, slugify
from tether.services._sharing import readable_ids
from tether.store import (
    AuditLog,
    Connections,
    Connector,
    ConnectorRevision,
    Connectors,
    Database,
    Environment,
    Grants,
)

__all__ = [
    "ConnectorInfo",
    "RevisionInfo",
    "create_connector",
    "delete_connector",
    "get_connector",
    "get_revision_files",
    "list_connectors",
    "list_revisions",
    "rollback_connector",
    "update_connector",
]


@dataclass(frozen=True, slots=True)
class ConnectorInfo:
    """A connector's identity and current state (its files are fetched separately)."""

    id: str
    environment_id: str
    environment: str
    name: str
    display_name: str
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    current_revision: int
    # Shipped with Tether (read-only, in every environment): see ``_builtin_packages``.
    builtin: bool = False


@dataclass(frozen=True, slots=True)
class RevisionInfo:
    """One revision of a connector: who saved it, when, why, and which files it holds."""

    connector_id: str
    number: int
    created_by: str | None
    created_at: datetime
    note: str | None
    files: tuple[str, ...]
    size: int


def _connector_info(connector: Connector, environment: Environment) -> ConnectorInfo:
    return ConnectorInfo(
        id=connector.id,
        environment_id=environment.id,
        environment=environment.name,
        name=connector.name,
        display_name=connector.display_name,
        created_by=connector.creator.username if connector.creator else None,
        created_at=connector.created_at,
        updated_at=connector.updated_at,
        current_revision=connector.current_revision,
        builtin=is_builtin(connector),
    )


def _revision_info(revision: ConnectorRevision) -> RevisionInfo:
    return RevisionInfo(
        connector_id=revision.connector_id,
        number=revision.number,
        created_by=revision.creator.username if revision.creator else None,
        created_at=revision.created_at,
        note=revision.note,
        files=tuple(file.name for file in revision.files),
        size=sum(len(file.content) for file in revision.files),
    )


def _find(
    session: Session, environment: Environment, connector: str, *, for_update: bool = False
) -> Connector:
    found = Connectors(session).find(environment.id, connector, for_update=for_update)
    if found is None and connector in BUILTIN_CONNECTORS:
        found = find_connector_row(session, environment, connector)
    if found is None:
        raise NotFound(f"Connector {connector!r} not found in environment {environment.name!r}.")
    return found


def _checked(
    session: Session, who: Standing, connector: str, operation: str, *, for_update: bool = False
) -> Connector:
    """The connector if ``who`` may ``operation`` it (else NotFound/PermissionDenied, see ``_access``)."""
    found = _find(session, who.environment, connector, for_update=for_update)
    label = f"Connector {connector!r}"
    if operation in ("update", "delete"):  # before the grant check: nobody may, whatever their grants
        refuse_builtin_change(found, "changed" if operation == "update" else "deleted")
    check(session, who, "connector", operation, resource_id=found.id, owner_id=found.created_by, label=label)
    return found


# Audit actions that are also events of the environment's stream.
_EVENTS: Final = {
    "connector.create": "connector.created",
    "connector.update": "connector.updated",
    "connector.rollback": "connector.updated",
}


def _record(
    session: Session, action: str, principal: Principal, connector: Connector, **detail: object
) -> None:
    AuditLog(session).record(
        action,
        actor=principal.username,
        environment=connector.environment_id,
        target=f"connector:{connector.id}",
        detail={"name": connector.name, "revision": connector.current_revision, **detail},
        via=principal.via,
    )
    event_type = _EVENTS.get(action)
    if event_type is not None:
        subject = Subject("connector", connector.id, connector.name, connector.created_by)
        data = {"revision": connector.current_revision}
        actor = principal.username
        record_event(session, event_type, connector.environment_id, subject, actor=actor, data=data)


def _check_if_match(session: Session, found: Connector, if_match: str | None) -> None:
    what = f"Connector {found.name!r}"
    target = f"connector:{found.id}"
    check_if_match(
        session, if_match, resource_id=found.id, updated_at=found.updated_at, what=what, target=target
    )


def _record_destination(
    session: Session,
    principal: Principal,
    connector: Connector,
    before: dict[str, bytes],
    after: dict[str, bytes],
) -> None:
    """Audit a change to where credentials go (host, base path, OAuth URLs, routing policies)."""
    changes = destination_changes(before, after)
    if changes:
        _record(session, "connector.destination-change", principal, connector, changes=changes)


def _current_files(session: Session, connector: Connector) -> dict[str, bytes]:
    connectors = Connectors(session)
    revision = connectors.revision(connector.id, connector.current_revision)
    return connectors.files(revision) if revision is not None else {}


def create_connector(
    db: Database,
    principal: Principal,
    environment: str,
    package: ConnectorPackage,
    *,
    name: str | None = None,
    display_name: str | None = None,
    note: str | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
    keyring: KeyRing | None = None,
) -> ConnectorInfo:
    """Create a connector from a package's files, as revision 1 (makers and admins).

    ``client_id`` / ``client_secret`` set the OAuth app of every OAuth parameter (paconn's
    ``--secret``): corpus connectors ship placeholders where their publisher's app was.
    With ``keyring``, OAuth client secrets in apiProperties are stored sealed.

    ``name`` (a slug, unique in the environment) defaults to one made from the API's title, and
    ``display_name`` to the title itself. Raises :class:`Conflict` if the name is taken.
    """
    # The package was read (and can be linted) by the caller, before this transaction's write lock.
    if name is None:
        name = slugify(package.title)
        if not name:
            raise InputError(f"Cannot make a connector name from the title {package.title!r}: pass a name.")
    check_slug(name, what="connector")
    if name in BUILTIN_CONNECTORS:
        raise Conflict(f"The name {name!r} belongs to a connector that ships with Tether: pass another name.")
    package = with_oauth_client(package, client_id, client_secret)
    with db.session() as session:
        env, role = resolve_environment(session, principal, environment)
        require_role(role, "maker", action="create connectors")
        connectors = Connectors(session)
        if connectors.name_taken(env.id, name):
            raise Conflict(
                f"A connector named {name!r} already exists in {env.name!r}: update it, or pass another name."
            )
        connector = connectors.add(
            env.id, name, display_name=display_name or package.title, created_by=principal.user_id
        )
        files = seal_client_secrets(package.files, None, keyring)
        connectors.add_revision(connector, files, created_by=principal.user_id, note=note)
        _record(session, "connector.create", principal, connector)
        return _connector_info(connector, env)


def update_connector(
    db: Database,
    principal: Principal,
    environment: str,
    connector: str,
    package: ConnectorPackage,
    *,
    note: str | None = None,
    display_name: str | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
    keyring: KeyRing | None = None,
    if_match: str | None = None,
) -> ConnectorInfo:
    """Save ``files`` as the connector's next revision (makers and admins); ``connector`` is an id or name.

    An OAuth client secret given as the download's placeholder (or left out) keeps the stored one;
    a new one replaces it, sealed with ``keyring``. ``if_match``: the ETag the caller loaded (412 if stale).
    """
    package = with_oauth_client(package, client_id, client_secret)
    with db.session() as session:
        who = standing(session, principal, environment)
        found = _checked(session, who, connector, "update", for_update=True)
        _check_if_match(session, found, if_match)
        connectors = Connectors(session)
        current = connectors.revision(found.id, found.current_revision)
        previous = connectors.files(current) if current is not None else None
        before = previous or {}
        files = seal_client_secrets(package.files, previous, keyring)
        connectors.add_revision(found, files, created_by=principal.user_id, note=note)
        if display_name:
            found.display_name = display_name
        _record(session, "connector.update", principal, found)
        _record_destination(session, principal, found, before, dict(package.files))
        return _connector_info(found, who.environment)


def rollback_connector(
    db: Database,
    principal: Principal,
    environment: str,
    connector: str,
    revision: int,
    *,
    note: str | None = None,
    if_match: str | None = None,
) -> ConnectorInfo:
    """Make revision ``revision``'s content current again, as a new revision (makers and admins).

    The content is restored as it was, without re-validation: rollback is the way out when a
    newer revision (or a newer validator) went wrong. ``if_match``: the ETag the caller loaded.
    """
    with db.session() as session:
        who = standing(session, principal, environment)
        found = _checked(session, who, connector, "update", for_update=True)
        _check_if_match(session, found, if_match)
        connectors = Connectors(session)
        old = connectors.revision(found.id, revision)
        if old is None:
            raise NotFound(f"Connector {found.name!r} has no revision {revision}.")
        before, restored = _current_files(session, found), connectors.files(old)
        connectors.add_revision(
            found,
            restored,
            created_by=principal.user_id,
            note=note or f"Rollback to revision {revision}",
        )
        _record(session, "connector.rollback", principal, found, restored=revision)
        _record_destination(session, principal, found, before, restored)
        return _connector_info(found, who.environment)


def get_connector(db: Database, principal: Principal, environment: str, connector: str) -> ConnectorInfo:
    """One connector by id or name (its owners, those it is shared with, and admins)."""
    with db.session() as session:
        who = standing(session, principal, environment)
        return _connector_info(_checked(session, who, connector, "read"), who.environment)


def list_connectors(
    db: Database, principal: Principal, environment: str, *, include_builtin: bool = False
) -> list[ConnectorInfo]:
    """The connectors the caller may see, by name: owned, shared with them, or all for admins.

    Built-in connectors (in every environment, usable by everyone) only with ``include_builtin``.
    """
    with db.session() as session:
        who = standing(session, principal, environment)
        if include_builtin:
            ensure_builtin_connectors(session, who.environment)
        rows = [
            r for r in Connectors(session).list(who.environment.id) if include_builtin or not is_builtin(r)
        ]
        visible = readable_ids(session, who, "connector", [(row.id, row.created_by) for row in rows])
        return [_connector_info(found, who.environment) for found in rows if found.id in visible]


def delete_connector(
    db: Database,
    principal: Principal,
    environment: str,
    connector: str,
    *,
    force: bool = False,
    if_match: str | None = None,
) -> None:
    """Delete a connector and its whole history (owners, co-owners and admins); the audit log keeps a record.

    A connector with connections needs ``force``: those connections go with it, and flows using
    them then fail saying the connection no longer exists.
    """
    with db.session() as session:
        who = standing(session, principal, environment)
        found = _checked(session, who, connector, "delete", for_update=True)
        _check_if_match(session, found, if_match)
        connections = Connections(session).for_connector(found.id)
        owners = sorted({row.owner.username for row in connections})
        if connections and not force:
            raise Conflict(
                f"Connector {found.name!r} has {len(connections)} connection(s) "
                f"(owners: {', '.join(owners)}); deleting it deletes them and stops their flows. "
                "Pass force (--force) to delete anyway.",
                detail={"connections": len(connections), "owners": owners},
            )
        _record(session, "connector.delete", principal, found, connections=len(connections), owners=owners)
        Grants(session).drop_resource("connector", found.id)
        for row in connections:
            Grants(session).drop_resource("connection", row.id)
        Connectors(session).delete(found)


def list_revisions(
    db: Database, principal: Principal, environment: str, connector: str
) -> list[RevisionInfo]:
    """The connector's revisions, oldest first (any member)."""
    with db.session() as session:
        who = standing(session, principal, environment)
        found = _checked(session, who, connector, "read")
        return [_revision_info(revision) for revision in Connectors(session).revisions(found.id)]


def get_revision_files(
    db: Database, principal: Principal, environment: str, connector: str, revision: int | None = None
) -> dict[str, bytes]:
    """The files of a revision as uploaded, OAuth client secrets shown as a placeholder (which an
    upload may carry back to keep them); ``None`` means the current one (Can edit and up)."""
    with db.session() as session:
        who = standing(session, principal, environment)
        found = _checked(session, who, connector, "download")
        connectors = Connectors(session)
        number = found.current_revision if revision is None else revision
        stored = connectors.revision(found.id, number)
        if stored is None:
            raise NotFound(f"Connector {found.name!r} has no revision {number}.")
        return mask_client_secrets(connectors.files(stored))


def with_oauth_client(
    package: ConnectorPackage, client_id: str | None, client_secret: str | None
) -> ConnectorPackage:
    """``package`` with the owner's OAuth app in every ``oauthSetting`` parameter.

    The secret goes where Power Platform keeps it (``oAuthSettings.clientSecret``), the same
    place a package uploaded with one has it, so it is stored the way those are.
    """
    if client_id is None and client_secret is None:
        return package
    properties = copy.deepcopy(package.properties.data) if package.properties is not None else None
    settings = [
        parameter["oAuthSettings"]
        for parameter in _oauth_parameters(properties)
        if isinstance(parameter.get("oAuthSettings"), dict)
    ]
    if not settings:
        raise InputError(
            "--client-id/--client-secret need an OAuth connection parameter in apiProperties.json; "
            "this connector has none"
        )
    if client_id is not None and is_placeholder_client_id(client_id):
        raise InputError(f"client id {client_id!r} looks like a placeholder; give the id of your OAuth app")
    for oauth in settings:
        if client_id is not None:
            oauth["clientId"] = client_id
        if client_secret is not None:
            oauth["clientSecret"] = client_secret
    files = {**package.files, PROPERTIES_FILE: json.dumps(properties, indent=2).encode()}
    return package_from_files(files, source=package.source)


def _oauth_parameters(properties: Any) -> list[dict[str, Any]]:
    inner = properties.get("properties") if isinstance(properties, dict) else None
    if not isinstance(inner, dict):
        return []
    groups = [inner.get("connectionParameters")]
    sets = inner.get("connectionParameterSets")
    if isinstance(sets, dict) and isinstance(sets.get("values"), list):
        groups += [v.get("parameters") for v in sets["values"] if isinstance(v, dict)]
    return [
        parameter
        for group in groups
        if isinstance(group, dict)
        for parameter in group.values()
        if isinstance(parameter, dict) and parameter.get("type") == "oauthSetting"
    ]
