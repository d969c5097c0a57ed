"""A connection's status, kept honest: what the provider and the API last said about its credentials.

    connected        the last call, refresh or sign-in worked (``status_reason`` may hold a warning:
                     a renewal failed and the current token is used until it expires)
    needs-consent    an OAuth connection waiting for its first sign-in
    needs-reconsent  the provider refused the refresh token (``invalid_grant``): sign in again
    error            the API rejected the credentials (401), or the provider refused the client

Each non-connected status comes with the exact command and API route that fix it, so ``tether
connection show``, the API and the error a call gets all say the same thing. A successful call,
refresh or sign-in sets ``error`` back to ``connected``; ``needs-reconsent`` only a new sign-in
clears, since a call that still works with the last access token says nothing about the grant.
"""

from __future__ import annotations

import re
from typing import Final

from sqlalchemy.orm import Session

from tether.errors import Conflict
from tether.services._connection_parts import record
from tether.store import Connection, Connections, Database, Environment, utcnow

__all__ = [
    "CONNECTED",
    "ERROR",
    "NEEDS_CONSENT",
    "NEEDS_RECONSENT",
    "ConnectionNeedsAttention",
    "environment_name",
    "fix_for",
    "fix_for_error",
    "mark_api_rejected",
    "mark_working",
    "quoted",
    "reconsent_fix",
    "rejection_reason",
]

CONNECTED: Final = "connected"
ERROR: Final = "error"
NEEDS_CONSENT: Final = "needs-consent"
NEEDS_RECONSENT: Final = "needs-reconsent"
# A provider's description is quoted into the reason: keep it short and on one line.
_MAX_QUOTED: Final = 200
_DESCRIPTION: Final = re.compile(r'error_description\s*=\s*"([^"]*)"', re.IGNORECASE)


class ConnectionNeedsAttention(Conflict):
    """The connection cannot be used until its owner fixes it (signs in again, or new values).

    A 409, not a 401: the caller's own Tether credentials are fine; the connection's are not.
    ``detail`` carries the connection id, its status and the ``fix`` (command and API route).
    """

    code = "connection-needs-attention"


def reconsent_fix(connection_id: str, environment: str) -> str:
    """The command and API route that start a new sign-in for a connection."""
    return (
        f"run 'tether connection update {connection_id} --env {environment} --reconsent' "
        f"(API: PATCH /api/v1/environments/{environment}/connections/{connection_id} "
        '{"reconsent": true}) and sign in at the provider'
    )


def fix_for(row: Connection, environment: str) -> str | None:
    """What the owner should do about the connection's current status (``None`` when connected)."""
    if row.status == CONNECTED:
        return None
    if row.status in (NEEDS_CONSENT, NEEDS_RECONSENT):
        return reconsent_fix(row.id, environment)
    return fix_for_error(row, environment)


def environment_name(session: Session, row: Connection) -> str:
    """The name of the environment holding ``row`` (fix commands name it)."""
    env = session.get(Environment, row.environment_id)
    return env.name if env is not None else row.environment_id


def quoted(text: str) -> str:
    """A provider's or API's own words, shortened to one line."""
    flat = " ".join(text.split())
    return flat if len(flat) <= _MAX_QUOTED else flat[: _MAX_QUOTED - 1] + "…"


def rejection_reason(status: int, www_authenticate: str | None) -> str:
    """Why the API rejected a call's credentials, in its own words when it gave any (RFC 6750)."""
    found = _DESCRIPTION.search(www_authenticate or "")
    said = f": {quoted(found.group(1))}" if found else ""
    return f"the API rejected the credentials: HTTP {status}{said}"


def mark_api_rejected(db: Database, connection_id: str, reason: str) -> None:
    """Set ``error`` with ``reason`` (after the API answered 401 even to a renewed token)."""
    with db.session() as session:
        row = Connections(session).get(connection_id, for_update=True)
        if row is None or row.status in (NEEDS_CONSENT, NEEDS_RECONSENT):
            return  # deleted, or waiting for a new sign-in (the stronger statement)
        fix = fix_for_error(row, environment_name(session, row))
        text = f"{reason[:1].upper()}{reason[1:]}; {fix}."
        if row.status == ERROR and row.status_reason == text:
            return
        row.status, row.status_reason, row.updated_at = ERROR, text, utcnow()
        record(session, "connection.api_rejected", None, row, reason=reason)


def fix_for_error(row: Connection, environment: str) -> str:
    """The fix for ``error``: a new sign-in for OAuth connections, new values for the others."""
    if row.grant is not None:
        return reconsent_fix(row.id, environment) + ", or check the connector's OAuth settings"
    return (
        f"give new credentials with 'tether connection update {row.id} --env {environment} --param "
        f"NAME=VALUE' (API: PATCH /api/v1/environments/{environment}/connections/{row.id})"
    )


def mark_working(db: Database, connection_id: str) -> None:
    """Set an ``error`` connection back to ``connected``: a call with its credentials just worked."""
    with db.session() as session:
        row = Connections(session).get(connection_id, for_update=True)
        if row is None or row.status != ERROR:
            return
        row.status, row.status_reason, row.updated_at = CONNECTED, None, utcnow()
        record(session, "connection.recovered", None, row)
