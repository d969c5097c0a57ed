"""Reading the audit log, and keeping it only as long as each environment's retention says.

Who did what, when, and how they signed in (``via``: a token's id, ``password``, ``sso``). The log
never holds a secret: services record names, ids and changed facts, never values. Environment
admins read their environment's events; platform admins read everything, including events that
belong to no environment (users, tokens, groups, key rotation).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from tether.errors import InputError, PermissionDenied
from tether.services._access import Principal, require_role, resolve_environment
from tether.store import AuditLog, Connections, Database, Environments, utcnow

__all__ = ["DEFAULT_AUDIT_RETENTION", "AuditEntry", "list_audit", "purge_audit"]

DEFAULT_AUDIT_RETENTION: Final = timedelta(days=365)
_MAX_LIMIT: Final = 1000


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audit event as readers see it."""

    id: str
    at: datetime
    actor: str | None
    via: str | None
    action: str
    target: str | None
    environment: str | None
    detail: dict[str, Any]


def list_audit(
    db: Database,
    principal: Principal,
    environment: str | None,
    *,
    action: str | None = None,
    actor: str | None = None,
    target: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
) -> list[AuditEntry]:
    """Events newest first (environment admins for ``environment``; platform admins for all with None).

    ``action`` matches exactly, or a family when it ends with a dot (``connector.``).
    """
    if not 1 <= limit <= _MAX_LIMIT:
        raise InputError(f"limit must be between 1 and {_MAX_LIMIT}, not {limit}.")
    with db.session() as session:
        env_id: str | None = None
        name: str | None = None
        if environment is not None:
            env, role = resolve_environment(session, principal, environment)
            require_role(role, "admin", action="read the audit log")
            env_id, name = env.id, env.name
        elif not principal.is_admin:
            raise PermissionDenied(
                "Only platform administrators read the whole audit log; name an environment."
            )
        names = {env.id: env.name for env in Environments(session).list()}
        events = AuditLog(session).list(
            environment=env_id,
            action=action,
            actor=actor,
            target=target,
            since=since,
            until=until,
            limit=limit,
        )
        return [
            AuditEntry(
                id=event.id,
                at=event.at,
                actor=event.actor,
                via=event.via,
                action=event.action,
                target=event.target,
                environment=name or names.get(event.environment or "", event.environment),
                detail=dict(event.detail),
            )
            for event in events
        ]


def purge_audit(db: Database, *, now: datetime | None = None) -> int:
    """Delete events older than their environment's ``audit_retention_days`` (default 365 days).

    Events of no environment keep the default. Called by the scheduler's housekeeping.
    """
    now = now or utcnow()
    deleted = 0
    with db.session() as session:
        log, settings = AuditLog(session), Connections(session)
        for env in Environments(session).list():
            found = settings.settings(env.id)
            days = found.audit_retention_days if found is not None else None
            keep = timedelta(days=days) if days else DEFAULT_AUDIT_RETENTION
            deleted += log.purge(now - keep, environment=env.id)
        deleted += log.purge(now - DEFAULT_AUDIT_RETENTION, unscoped=True)
    return deleted
