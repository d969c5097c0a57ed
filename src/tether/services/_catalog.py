"""The catalog: certified connectors, visible in every environment, installed by any maker.

An entry holds a copy of the certified revision's files with OAuth client secrets replaced by the
placeholder: the publisher's OAuth app stays theirs, and whoever installs the entry brings their
own (``client_id``/``client_secret``, as when uploading a corpus connector). Installing makes an
ordinary connector in the target environment, remembered as coming from the entry (data policies
identify it by the entry's name); connections to it are then made per environment as usual.
Publishing a new revision of a certified connector bumps the entry's version and replaces its
files in one transaction: installations and the live entry never see a half-published state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tether.definition import package_from_files
from tether.errors import Conflict, NotFound
from tether.secrets import KeyRing
from tether.services._access import Principal, require_role, resolve_environment
from tether.services._client_secrets import mask_client_secrets, seal_client_secrets
from tether.services._connectors import ConnectorInfo, _connector_info, with_oauth_client
from tether.services._names import check_slug
from tether.store import (
    AuditLog,
    Catalog,
    CatalogEntry,
    CertificationRequest,
    Connector,
    Connectors,
    Database,
    Environments,
    Groups,
    Users,
    utcnow,
)

__all__ = [
    "CatalogEntryInfo",
    "get_catalog_entry",
    "install_catalog_entry",
    "list_catalog",
    "publish",
]


@dataclass(frozen=True, slots=True)
class CatalogEntryInfo:
    """A certified connector in the catalog; ``readme`` and ``operations`` come with ``show``."""

    name: str
    display_name: str
    description: str
    publisher: str
    version: int
    published_at: datetime
    readme: str | None = None
    operations: tuple[dict[str, str], ...] = ()


def _info(entry: CatalogEntry, files: dict[str, bytes] | None = None) -> CatalogEntryInfo:
    operations: tuple[dict[str, str], ...] = ()
    if files is not None:
        package = package_from_files(files, source=f"catalog:{entry.name}")
        paths = package.definition.data.get("paths") if isinstance(package.definition.data, dict) else None
        operations = tuple(
            {"operation_id": str(op.get("operationId", "")), "method": method.upper(), "path": path,
             "summary": str(op.get("summary", ""))}
            for path, item in (paths or {}).items()
            if isinstance(item, dict)
            for method, op in item.items()
            if isinstance(op, dict) and method.lower() in {"get", "put", "post", "delete", "patch", "head"}
        )  # fmt: skip
    return CatalogEntryInfo(
        name=entry.name,
        display_name=entry.display_name,
        description=entry.description,
        publisher=entry.publisher,
        version=entry.version,
        published_at=entry.published_at,
        readme=entry.readme if files is not None else None,
        operations=operations,
    )


def _require_member(session: Session, principal: Principal) -> None:
    """The catalog is for people who work somewhere: platform admins, certifiers, environment members."""
    if principal.is_admin or Environments(session).for_user(principal.user_id):
        return
    groups = Groups(session).of_user(principal.user_id)
    if groups and any(Groups(session).roles_in(env.id, groups) for env in Environments(session).list()):
        return  # a member through a group
    user = Users(session).get(principal.user_id)
    if user is None or not user.is_certifier:
        raise NotFound("The catalog is visible to members of an environment; ask an admin to add you to one.")


def list_catalog(db: Database, principal: Principal) -> list[CatalogEntryInfo]:
    """Every certified connector, by name (any member of any environment)."""
    with db.session() as session:
        _require_member(session, principal)
        return [_info(entry) for entry in Catalog(session).list()]


def get_catalog_entry(db: Database, principal: Principal, name: str) -> CatalogEntryInfo:
    """One entry with its readme and operations (any member of any environment)."""
    with db.session() as session:
        _require_member(session, principal)
        catalog = Catalog(session)
        entry = _find(catalog, name)
        return _info(entry, catalog.files(entry))


def _find(catalog: Catalog, name: str) -> CatalogEntry:
    entry = catalog.find(name)
    if entry is None:
        raise NotFound(f"No connector {name!r} in the catalog; list them with 'tether catalog list'.")
    return entry


def install_catalog_entry(
    db: Database,
    principal: Principal,
    name: str,
    environment: str,
    *,
    connector_name: str | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
    keyring: KeyRing | None = None,
) -> ConnectorInfo:
    """Make a connector in ``environment`` from catalog entry ``name`` (makers there)."""
    with db.session() as session:
        env, role = resolve_environment(session, principal, environment)
        require_role(role, "maker", action="install connectors from the catalog")
        catalog = Catalog(session)
        entry = _find(catalog, name)
        target = connector_name or entry.name
        check_slug(target, what="connector")
        connectors = Connectors(session)
        if connectors.name_taken(env.id, target):
            raise Conflict(
                f"A connector named {target!r} already exists in {env.name!r}: pass another name "
                "(--name) to install the catalog entry beside it."
            )
        package = package_from_files(catalog.files(entry), source=f"catalog:{entry.name}")
        package = with_oauth_client(package, client_id, client_secret)
        connector = connectors.add(
            env.id, target, display_name=entry.display_name, created_by=principal.user_id
        )
        files = seal_client_secrets(package.files, None, keyring)
        connectors.add_revision(
            connector,
            files,
            created_by=principal.user_id,
            note=f"Installed from the catalog: {entry.name} v{entry.version}",
        )
        catalog.record_install(connector.id, entry)
        AuditLog(session).record(
            "catalog.install",
            actor=principal.username,
            environment=env.id,
            target=f"connector:{connector.id}",
            detail={"entry": entry.name, "version": entry.version},
            via=principal.via,
        )
        return _connector_info(connector, env)


def publish(
    session: Session, connector: Connector, request: CertificationRequest, files: dict[str, bytes]
) -> CatalogEntry:
    """Publish ``files`` (an approved revision) as the connector's catalog entry, new or next version."""
    shown = mask_client_secrets(files)
    package = package_from_files(shown, source=connector.name)
    data: Any = package.definition.data if isinstance(package.definition.data, dict) else {}
    info = data.get("info") if isinstance(data.get("info"), dict) else {}
    properties = package.properties.data if package.properties is not None else {}
    inner = properties.get("properties") if isinstance(properties, dict) else None
    publisher = inner.get("publisher") if isinstance(inner, dict) else None
    catalog = Catalog(session)
    entry = catalog.by_source(connector.id)
    if entry is None:
        taken = catalog.find(connector.name)
        if taken is not None:
            raise Conflict(
                f"The catalog already has an entry named {connector.name!r} from another connector; "
                "rename this connector before approving it."
            )
        entry = CatalogEntry(name=connector.name, version=0, source_connector_id=connector.id)
        session.add(entry)
    entry.display_name = package.title
    entry.description = str(info.get("description") or "")
    entry.publisher = str(publisher or _username(session, connector.created_by) or "")
    entry.readme = request.readme
    entry.version += 1
    entry.source_revision = request.revision
    entry.request_id = request.id
    entry.published_at = utcnow()
    session.flush()
    catalog.set_files(entry, shown)
    return entry


def _username(session: Session, user_id: str | None) -> str | None:
    user = Users(session).get(user_id) if user_id else None
    return user.username if user else None
