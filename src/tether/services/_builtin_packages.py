"""The connectors that ship with Tether (Tether for Admins, Mail (SMTP)): their packages and rows.

Built-in connectors are ordinary connector packages (``builtin/<name>/apiDefinition.swagger.json``
and ``apiProperties.json``, loaded and linted like any upload) stored as ordinary connector rows,
one per environment, so connections, flows, run history and permissions treat them like any
other connector. What marks them: a reserved name and no creator. They are made in an environment
the first time anyone there names one (a connection, ``connector show``, ``connector list
--builtin``), so environments that never use them carry no rows; upgraded at every start when
the shipped files changed; shared with everyone in the environment (a "use" grant); and refused
to every edit, rollback and delete.
Their operations run in process (see ``_builtin_dispatch``), never as HTTP to Tether's own API.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Final

from sqlalchemy.orm import Session

from tether.definition import package_from_files
from tether.errors import PermissionDenied
from tether.store import EVERYONE, Connector, Connectors, Environment, Environments, Grants

__all__ = [
    "BUILTIN_CONNECTORS",
    "ensure_builtin_connectors",
    "find_connector_row",
    "is_builtin",
    "refuse_builtin_change",
    "upgrade_everywhere",
]

# Reserved connector names (slug → display name); no maker may create a connector with these.
BUILTIN_CONNECTORS: Final = {"tether-admins": "Tether for Admins", "mail-smtp": "Mail (SMTP)"}
_NOTE: Final = "Shipped with Tether"


@functools.cache
def builtin_files(name: str) -> dict[str, bytes]:
    """The shipped package files of built-in ``name`` (read once per process)."""
    folder = resources.files("tether.services").joinpath("builtin", name)
    files = {entry.name: entry.read_bytes() for entry in folder.iterdir() if entry.is_file()}
    package_from_files(files)  # a broken shipped package must fail loudly at start, not at first call
    return files


def is_builtin(connector: Connector) -> bool:
    """Whether the row is a shipped connector (reserved name, no creator)."""
    return connector.name in BUILTIN_CONNECTORS and connector.created_by is None


def refuse_builtin_change(connector: Connector, action: str) -> None:
    """Raise :class:`PermissionDenied` when ``connector`` is built in (they are read-only)."""
    if is_builtin(connector):
        raise PermissionDenied(
            f"Connector {connector.name!r} ships with Tether and cannot be {action}: make a connection "
            "to it, or create your own connector under another name."
        )


def ensure_builtin_connectors(session: Session, environment: Environment) -> None:
    """Create or upgrade every built-in connector in ``environment`` (idempotent, in ``session``)."""
    connectors = Connectors(session)
    for name, display_name in BUILTIN_CONNECTORS.items():
        files = builtin_files(name)
        row = connectors.find(environment.id, name)
        if row is None:
            row = connectors.add(environment.id, name, display_name=display_name, created_by=None)
            connectors.add_revision(row, files, created_by=None, note=_NOTE)
            Grants(session).put(
                environment.id, "connector", row.id, "everyone", EVERYONE, "use", created_by=None
            )
            continue
        if not is_builtin(row):
            continue  # a maker's connector of that name from before this release stays theirs
        current = connectors.revision(row.id, row.current_revision)
        if current is None or connectors.files(current) != files:
            connectors.add_revision(row, files, created_by=None, note=f"{_NOTE} (upgraded)")


def find_connector_row(session: Session, environment: Environment, id_or_name: str) -> Connector | None:
    """``Connectors.find``, making the built-in connectors first when ``id_or_name`` names one."""
    found = Connectors(session).find(environment.id, id_or_name)
    if found is None and id_or_name in BUILTIN_CONNECTORS:
        ensure_builtin_connectors(session, environment)
        found = Connectors(session).find(environment.id, id_or_name)
    return found


def upgrade_everywhere(session: Session) -> None:
    """Bring every environment's built-in connectors up to the shipped files (at start)."""
    for environment in Environments(session).list():
        if any(Connectors(session).find(environment.id, name) for name in BUILTIN_CONNECTORS):
            ensure_builtin_connectors(session, environment)
