"""Connection use cases: the form to fill, create, list, show, update and delete.

A connection belongs to the user who made it. Its owner uses, changes and shares it (Can use: the
grantee calls through it but never sees or changes its values); environment admins may see and
delete anyone's (to clean up after people leave) but never act with it or read a secret: no function
here returns a parameter value or a token, only which parameters are set. Values are encrypted
with the KeyRing before they reach the store, all of them (a "string" parameter may be a key too).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from tether.errors import NotFound
from tether.secrets import KeyRing
from tether.services._access import Principal, Standing, check, require_role, standing
from tether.services._connection_forms import ParameterSetForm, check_values
from tether.services._connection_parts import (
    AUTHORIZATION_CODE,
    ConnectionInfo,
    connection_info,
    connector_properties,
    find_connector,
    forms_of,
    grant_of,
    oauth_settings_for,
    pick_form,
    record,
    redirect_mode_of,
    redirect_url_for,
)
from tether.services._consent import start_consent
from tether.services._etags import check_if_match
from tether.services._gateway_calls import seal_for_gateway
from tether.services._redirects import enforce_redirect_migration
from tether.services._sharing import readable_ids
from tether.store import Connection, Connections, Connector, Database, Grants, utcnow

__all__ = [
    "ConnectionForm",
    "connection_form",
    "create_connection",
    "delete_connection",
    "get_connection",
    "list_connections",
    "update_connection",
]

_CONSENT_REASON = "Sign in at the provider to finish: open the consent URL."


@dataclass(frozen=True, slots=True)
class ConnectionForm:
    """What connecting to a connector asks for: one form per way to connect (multi-auth: several).

    ``redirect_url`` is the URL its OAuth app must register (``None`` without OAuth).
    """

    connector_id: str
    connector: str
    display_name: str
    sets: tuple[ParameterSetForm, ...]
    redirect_mode: str | None
    redirect_url: str | None


def connection_form(
    db: Database, principal: Principal, environment: str, connector: str, *, public_url: str
) -> ConnectionForm:
    """The parameters a user must fill to connect to ``connector`` (anyone it is shared with)."""
    with db.session() as session:
        who = standing(session, principal, environment)
        found = _usable_connector(session, who, connector)
        props = connector_properties(session, found)
        return ConnectionForm(
            connector_id=found.id,
            connector=found.name,
            display_name=found.display_name,
            sets=forms_of(props),
            redirect_mode=redirect_mode_of(props),
            redirect_url=redirect_url_for(public_url, props, found.id),
        )


def create_connection(
    db: Database,
    principal: Principal,
    environment: str,
    connector: str,
    values: Mapping[str, Any],
    *,
    keyring: KeyRing,
    public_url: str,
    parameter_set: str | None = None,
    display_name: str | None = None,
) -> ConnectionInfo:
    """Create the caller's connection to ``connector`` from ``values`` (anyone it is shared with).

    Every bad value is reported in one :class:`~tether.errors.ValidationFailed`. An OAuth
    (authorization code) connection starts as ``needs-consent`` with a ``consent_url`` to open;
    a client-credentials one is ``connected`` and gets its token on first use.
    """
    with db.session() as session:
        who = standing(session, principal, environment)
        env = who.environment
        require_role(who.role, "user", action="create connections")
        found = _usable_connector(session, who, connector)
        props = connector_properties(session, found, keyring)
        form = pick_form(forms_of(props), parameter_set)
        checked = check_values(form, values)
        through = _gateway(form, checked)
        if through is not None:  # sealed before anything is written (see _gateway_calls.py)
            checked = seal_for_gateway(session, who, through, form, checked)
        settings = oauth_settings_for(props, form, checked)
        grant = grant_of(settings) if settings is not None else None
        if grant == AUTHORIZATION_CODE:
            enforce_redirect_migration(session, env, found, props, public_url)
        row = Connections(session).add(
            Connection(
                environment_id=env.id,
                connector_id=found.id,
                owner_id=principal.user_id,
                display_name=display_name or found.display_name,
                parameter_set=form.name,
                status="needs-consent" if grant == AUTHORIZATION_CODE else "connected",
                status_reason=_CONSENT_REASON if grant == AUTHORIZATION_CODE else None,
                parameter_names=sorted(checked),
                secret_values=keyring.encrypt_json(checked) if checked else None,
                grant=grant,
                gateway=through,
                refresh_count=0,
            )
        )
        consent_url = None
        if grant == AUTHORIZATION_CODE:
            consent_url = start_consent(
                session, principal, row, keyring=keyring, public_url=public_url
            ).consent_url
        record(session, "connection.create", principal, row, parameters=sorted(checked))
        return connection_info(row, env, consent_url)


def list_connections(db: Database, principal: Principal, environment: str) -> list[ConnectionInfo]:
    """The caller's connections and those shared with them; environment admins see everybody's."""
    with db.session() as session:
        who = standing(session, principal, environment)
        rows = Connections(session).list(who.environment.id)
        visible = readable_ids(session, who, "connection", [(row.id, row.owner_id) for row in rows])
        return [connection_info(row, who.environment) for row in rows if row.id in visible]


def get_connection(db: Database, principal: Principal, environment: str, connection: str) -> ConnectionInfo:
    """One connection (its owner, those it is shared with, environment admins); never any secret value."""
    with db.session() as session:
        who = standing(session, principal, environment)
        return connection_info(_checked(session, who, connection, "read"), who.environment)


def update_connection(
    db: Database,
    principal: Principal,
    environment: str,
    connection: str,
    *,
    keyring: KeyRing,
    public_url: str,
    values: Mapping[str, Any] | None = None,
    display_name: str | None = None,
    reconsent: bool = False,
    if_match: str | None = None,
) -> ConnectionInfo:
    """Change a connection's name or values (its owner only); values given replace the stored ones.

    Values are checked against the connector's current form as a whole (stored values plus the new
    ones). ``reconsent`` (or new values on an OAuth connection) starts a new sign-in; the old tokens
    keep working until the new ones arrive.
    """
    with db.session() as session:
        who = standing(session, principal, environment)
        env = who.environment
        row = _checked(session, who, connection, "update", for_update=True)
        _check_if_match(session, row, if_match)
        if display_name:
            row.display_name = display_name
        changed: list[str] = []
        if values:
            props = connector_properties(session, row.connector, keyring)
            form = pick_form(forms_of(props), row.parameter_set)
            stored = keyring.decrypt_json(row.secret_values) if row.secret_values else {}
            checked = check_values(form, {**stored, **values})
            through = _gateway(form, checked)
            if through is not None:
                checked = seal_for_gateway(session, who, through, form, checked)
            row.secret_values = keyring.encrypt_json(checked) if checked else None
            row.parameter_names = sorted(checked)
            row.gateway = _gateway(form, checked)
            changed = sorted(values)
        consent_url = None
        if row.grant == AUTHORIZATION_CODE and (reconsent or changed):
            start = start_consent(session, principal, row, keyring=keyring, public_url=public_url)
            consent_url = start.consent_url
            if row.tokens is None or row.status in ("error", "needs-reconsent"):
                row.status, row.status_reason = "needs-consent", _CONSENT_REASON
        row.updated_at = utcnow()
        record(session, "connection.update", principal, row, parameters=changed, reconsent=reconsent)
        return connection_info(row, env, consent_url)


def delete_connection(
    db: Database, principal: Principal, environment: str, connection: str, *, if_match: str | None = None
) -> None:
    """Delete a connection and its pending consents (its owner, or an environment admin)."""
    with db.session() as session:
        who = standing(session, principal, environment)
        row = _checked(session, who, connection, "delete", for_update=if_match is not None)
        _check_if_match(session, row, if_match)
        record(session, "connection.delete", principal, row)
        Grants(session).drop_resource("connection", row.id)
        Connections(session).delete(row)


def _usable_connector(session: Session, who: Standing, connector: str) -> Connector:
    """The connector if ``who`` may connect to it (owners, Can edit, Can use, admins)."""
    found = find_connector(session, who.environment, connector)
    label = f"Connector {connector!r}"
    check(session, who, "connector", "connect", resource_id=found.id, owner_id=found.created_by, label=label)
    return found


def _checked(
    session: Session, who: Standing, connection: str, operation: str, *, for_update: bool = False
) -> Connection:
    """The connection if ``who`` may ``operation`` it; others' unshared connections are "not found"."""
    row = Connections(session).find(who.environment.id, connection, for_update=for_update)
    if row is None:
        raise NotFound(f"Connection {connection!r} not found in environment {who.environment.name!r}.")
    label = f"Connection {connection!r}"
    check(session, who, "connection", operation, resource_id=row.id, owner_id=row.owner_id, label=label)
    return row


def _check_if_match(session: Session, row: Connection, if_match: str | None) -> None:
    what = f"Connection {row.display_name or row.id!r}"
    target = f"connection:{row.id}"
    check_if_match(session, if_match, resource_id=row.id, updated_at=row.updated_at, what=what, target=target)


def _gateway(form: ParameterSetForm, values: Mapping[str, Any]) -> str | None:
    for field in form.fields:
        if field.kind == "gatewaySetting" and values.get(field.name):
            return str(values[field.name])
    return None
