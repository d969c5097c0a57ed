"""Environment variables: set, list and delete them (environment admins), and read them for runs.

Flows read them as Logic Apps Standard definitions read app settings: ``@appsetting('Name')``, and
``@parameters('Name')`` when the flow declares no parameter of that name. Secure values are
encrypted with the key ring before they are stored, never listed back, and decrypted only to run.
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from tether.errors import InputError, NotFound
from tether.secrets import KeyRing
from tether.services._access import Principal, require_role, resolve_environment
from tether.services._read_cache import ReadCache
from tether.store import AuditLog, Database, EnvironmentVariable, EnvironmentVariables, Flow

__all__ = [
    "EnvironmentVariableInfo",
    "delete_environment_variable",
    "environment_values",
    "flow_environment_values",
    "list_environment_variables",
    "set_environment_variable",
]

# App setting names as Azure allows them: letters, digits, '_', '.', '-', ':' (Standard uses
# 'Section:Key' and 'Section.Key' forms), at most 200 characters.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.:\-]{0,199}")
MAX_VALUE_CHARS = 65_536


@dataclass(frozen=True)
class EnvironmentVariableInfo:
    """A variable as callers see it: a secure one's ``value`` is ``None`` (it is never shown)."""

    name: str
    value: str | None
    secure: bool
    updated_at: datetime
    updated_by: str | None


def _info(row: EnvironmentVariable) -> EnvironmentVariableInfo:
    return EnvironmentVariableInfo(
        row.name, None if row.secure else row.value, row.secure, row.updated_at, row.updated_by
    )


def set_environment_variable(
    db: Database,
    principal: Principal,
    environment: str,
    name: str,
    value: str,
    *,
    secure: bool = False,
    keyring: KeyRing | None = None,
) -> EnvironmentVariableInfo:
    """Create or replace ``name`` (environment admins). A ``secure`` value needs the key ring."""
    if not _NAME.fullmatch(name):
        raise InputError(
            f"'{name}' is not a valid variable name: start with a letter or '_', then letters, digits, "
            "'_', '.', '-' or ':' (at most 200 characters), e.g. 'Orders.ApiUrl'"
        )
    if len(value) > MAX_VALUE_CHARS:
        raise InputError(f"the value of '{name}' is longer than {MAX_VALUE_CHARS:,} characters")
    if secure and keyring is None:
        raise InputError("secure variables need the server's encryption keys (TETHER_MASTER_KEY)")
    stored = keyring.encrypt(value) if secure and keyring is not None else value
    with db.session() as session:
        env, role = resolve_environment(session, principal, environment)
        require_role(role, "admin", action="set environment variables")
        row = EnvironmentVariables(session).put(env.id, name, stored, secure=secure, by=principal.username)
        AuditLog(session).record(
            "environment.variable.set",
            actor=principal.username,
            environment=env.id,
            target=f"variable:{row.name}",
            detail={"secure": secure},  # never the value
        )
        return _info(row)


def list_environment_variables(
    db: Database, principal: Principal, environment: str
) -> list[EnvironmentVariableInfo]:
    """Every variable of the environment, by name (makers: they write the flows that read them)."""
    with db.session() as session:
        env, role = resolve_environment(session, principal, environment)
        require_role(role, "maker", action="list environment variables")
        return [_info(row) for row in EnvironmentVariables(session).list(env.id)]


def delete_environment_variable(db: Database, principal: Principal, environment: str, name: str) -> None:
    """Remove ``name`` (environment admins); NotFound when there is no such variable."""
    with db.session() as session:
        env, role = resolve_environment(session, principal, environment)
        require_role(role, "admin", action="delete environment variables")
        repo = EnvironmentVariables(session)
        row = repo.get(env.id, name)
        if row is None:
            raise NotFound(f"environment variable {name!r} not found in {env.name!r}")
        repo.delete(row)
        AuditLog(session).record(
            "environment.variable.delete",
            actor=principal.username,
            environment=env.id,
            target=f"variable:{row.name}",
        )


def environment_values(
    db: Database, flow_id: str, keyring: KeyRing | None, *, session: Session | None = None
) -> dict[str, str]:
    """The variables of ``flow_id``'s environment as a run reads them (secure ones decrypted).

    No permission check: the run engine reads them for a flow an environment member saved. Without
    a key ring (an engine used as a library), secure variables are left out. ``session``: read in
    the caller's open session (SQLite allows one writer: a second session would wait on the first).
    """
    if session is None:
        with db.session() as own:
            return environment_values(db, flow_id, keyring, session=own)
    flow = session.get(Flow, flow_id)
    if flow is None:
        return {}
    values: dict[str, str] = {}
    for row in EnvironmentVariables(session).list(flow.environment_id):
        if not row.secure:
            values[row.name] = row.value
        elif keyring is not None:
            values[row.name] = keyring.decrypt_text(row.value)
    return values


_flow_values: weakref.WeakKeyDictionary[Database, ReadCache[dict[str, str]]] = weakref.WeakKeyDictionary()


async def flow_environment_values(db: Database, flow_id: str, keyring: KeyRing | None) -> dict[str, str]:
    """:func:`environment_values`, read once and reused while the variables and flows are unchanged
    (every run advance needs them; a change made here shows at once, elsewhere within seconds)."""
    cache = _flow_values.get(db)
    if cache is None:
        tables = (EnvironmentVariable.__tablename__, Flow.__tablename__)
        cache = _flow_values.setdefault(db, ReadCache(db, tables))

    def read() -> tuple[dict[str, str], None]:
        return environment_values(db, flow_id, keyring), None

    return await cache.read_through((flow_id, keyring is not None), read)
