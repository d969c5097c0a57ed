"""Entity tags and ``If-Match``: no lost updates when two people save the same thing.

A resource's ETag is derived from its id and its ``updated_at`` (``"<20 hex digits of sha256>"``,
a strong tag): every save of a connector (a new revision), a connection (values, name, status, a
token renewal), a flow (definition, connections, parameters, enabled) or an environment's settings
moves ``updated_at``, so the tag changes whenever the stored state does. No extra column is kept.

Updates check the tag inside the transaction that writes, after the row is locked (``SELECT …
FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` serialises writers), so of two saves
sent with the same tag exactly one wins and the other gets :class:`PreconditionFailed` (412),
which names who changed the resource and when (from the audit log) where that is known: the
user name (``changed_by``), the person's display name (``changed_by_name``, what the portal shows)
and the time (``changed_at``).
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tether.errors import PreconditionFailed
from tether.store import AuditEvent, User

__all__ = ["check_if_match", "resource_etag"]


def resource_etag(resource_id: str, updated_at: datetime | None) -> str:
    """The strong ETag (quoted, as sent in the header) of a resource's current state.

    ``updated_at`` is ``None`` for a state never saved (an environment's default settings).
    """
    stamp = updated_at.isoformat() if updated_at is not None else "never"
    digest = hashlib.sha256(f"{resource_id}|{stamp}".encode()).hexdigest()
    return f'"{digest[:20]}"'


def check_if_match(
    session: Session,
    if_match: str | None,
    *,
    resource_id: str,
    updated_at: datetime | None,
    what: str,
    target: str,
) -> None:
    """Raise :class:`PreconditionFailed` unless ``if_match`` (a header value) names the current tag.

    ``None`` (no header) always passes: ``If-Match`` is how a client asks for the check. ``*``
    matches any current state; a list matches if one of its tags does. Weak tags (``W/"…"``)
    never match, as RFC 9110 requires for ``If-Match``. ``target`` is the audit target
    (``connector:<id>``) whose newest event says who changed it.
    """
    if if_match is None:
        return
    current = resource_etag(resource_id, updated_at)
    offered = [tag.strip() for tag in if_match.split(",") if tag.strip()]
    if "*" in offered or current in offered or current.strip('"') in offered:
        return
    changed_by, changed_at = _last_change(session, target)
    changed_by_name = _display_name(session, changed_by)
    stamp = changed_at or updated_at
    when = stamp.isoformat(timespec="seconds") if stamp is not None else None
    who = f" by {changed_by}" if changed_by else ""
    at = f" at {when}" if when else ""
    raise PreconditionFailed(
        f"{what} was changed{who}{at} since you loaded it (your If-Match {if_match} is not its "
        f"current ETag {current}); load it again, re-apply your change and save with the new ETag.",
        detail={
            "etag": current,
            "changed_by": changed_by,
            "changed_by_name": changed_by_name,
            "changed_at": when,
        },
    )


def _last_change(session: Session, target: str) -> tuple[str | None, datetime | None]:
    """Who made the newest audited change to ``target``, and when (``None`` when not audited)."""
    event = session.scalar(
        select(AuditEvent).where(AuditEvent.target == target).order_by(AuditEvent.at.desc()).limit(1)
    )
    return (event.actor, event.at) if event is not None else (None, None)


def _display_name(session: Session, username: str | None) -> str | None:
    """The display name of the user ``username`` (the name itself for a user since deleted)."""
    if username is None:
        return None
    found = session.scalar(select(User.display_name).where(User.username == username))
    return found or username
