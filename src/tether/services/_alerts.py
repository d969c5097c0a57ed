"""Alerts by email, through the environment's Mail (SMTP) connection.

An environment admin names the Mail connection alerts go through (and the failure digest's
window). Then:

- any member may subscribe themself to event types (``email`` rules): each dispatcher pass
  mails them, in one message, the new events of those types that they may see;
- a flow's owner gets a **failure digest** by default: once the oldest failure not yet reported
  is a window old (an hour by default), one mail per owner lists every failed run of their flows
  since the last digest, with links. So a flow failing fifty times in a minute sends one mail.
  A user opts out for one flow or for all of theirs (``no-digest`` rules).

Mails are planned here (:func:`plan_alert_mails`, pure of I/O beyond the database) and sent by
the hosting layer's dispatcher. Planning moves the environment's position in the stream with a
compare-and-set before anything is sent, so two server processes never send the same mail
(at most once: a mail server that refuses is logged, not retried).
"""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy.orm import Session

from tether.errors import InputError, NotFound
from tether.services._access import Principal, Standing, require_role, standing, standing_of_user
from tether.services._events import check_event_types, matches, visible_to
from tether.store import (
    AlertRule,
    Alerts,
    AlertSetting,
    AuditLog,
    Connection,
    Connector,
    Database,
    Environment,
    Event,
    Events,
    Flows,
    User,
    utcnow,
)

__all__ = [
    "DEFAULT_DIGEST_MINUTES",
    "AlertMail",
    "AlertRuleInfo",
    "AlertSettingsInfo",
    "add_alert_rule",
    "delete_alert_rule",
    "get_alert_settings",
    "list_alert_rules",
    "plan_alert_mails",
    "set_alert_settings",
]

DEFAULT_DIGEST_MINUTES: Final = 60
MAIL_CONNECTOR: Final = "mail-smtp"
_GRACE: Final = timedelta(seconds=2)  # events younger than this may still be committing elsewhere
_SCAN: Final = 1000


@dataclass(frozen=True, slots=True)
class AlertSettingsInfo:
    """Where an environment's alerts go out from, and the digest window."""

    environment: str
    connection_id: str | None
    digest_minutes: int
    updated_by: str | None
    updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class AlertRuleInfo:
    """One of the caller's alert rules."""

    id: str
    kind: str
    event_types: list[str]
    flow_id: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AlertMail:
    """A mail to send through ``connection_id`` (the environment's Mail connection)."""

    environment_id: str
    connection_id: str
    to: str
    subject: str
    body: str  # HTML
    kind: str  # "digest" or "events"


def _settings_info(env: Environment, row: AlertSetting | None) -> AlertSettingsInfo:
    return AlertSettingsInfo(
        environment=env.name,
        connection_id=row.connection_id if row else None,
        digest_minutes=row.digest_minutes if row else DEFAULT_DIGEST_MINUTES,
        updated_by=row.updated_by if row else None,
        updated_at=row.updated_at if row else None,
    )


def get_alert_settings(db: Database, principal: Principal, environment: str) -> AlertSettingsInfo:
    """The environment's alert settings (any member may read them)."""
    with db.session() as session:
        who = standing(session, principal, environment)
        return _settings_info(who.environment, Alerts(session).setting(who.environment.id))


def set_alert_settings(
    db: Database,
    principal: Principal,
    environment: str,
    *,
    connection_id: str | None,
    digest_minutes: int = DEFAULT_DIGEST_MINUTES,
) -> AlertSettingsInfo:
    """Name the Mail (SMTP) connection alerts are sent through (None: no alert mails). Admins."""
    if not 1 <= digest_minutes <= 7 * 24 * 60:
        raise InputError(f"digest_minutes must be from 1 to {7 * 24 * 60} (a week), not {digest_minutes}.")
    with db.session() as session:
        who = standing(session, principal, environment)
        require_role(who.role, "admin", action="set the environment's alerts")
        env = who.environment
        if connection_id is not None:
            _check_mail_connection(session, env, connection_id)
        alerts = Alerts(session)
        row = alerts.setting(env.id)
        if row is None:
            # A new reader of the stream starts now: nothing from before is mailed.
            latest = Events(session).latest_id(env.id)
            row = AlertSetting(environment_id=env.id, digest_cursor=latest, mail_cursor=latest)
        row.connection_id, row.digest_minutes = connection_id, digest_minutes
        row.updated_by, row.updated_at = principal.username, utcnow()
        row = alerts.put_setting(row)
        AuditLog(session).record(
            "environment.alerts",
            actor=principal.username,
            environment=env.id,
            target=f"environment:{env.id}",
            detail={"connection": connection_id, "digest_minutes": digest_minutes},
            via=principal.via,
        )
        return _settings_info(env, row)


def _check_mail_connection(session: Session, env: Environment, connection_id: str) -> None:
    row = session.get(Connection, connection_id)
    connector = session.get(Connector, row.connector_id) if row is not None else None
    if row is None or row.environment_id != env.id or connector is None:
        raise NotFound(f"Connection {connection_id!r} not found in environment {env.name!r}.")
    if connector.name != MAIL_CONNECTOR or connector.created_by is not None:
        raise InputError(
            f"Connection {connection_id!r} is a {connector.name!r} connection; alerts need a Mail (SMTP) "
            f"connection: create one with 'tether connection create {MAIL_CONNECTOR}'."
        )


def _rule_info(row: AlertRule) -> AlertRuleInfo:
    return AlertRuleInfo(
        id=row.id,
        kind=row.kind,
        event_types=list(row.event_types),
        flow_id=row.flow_id,
        created_at=row.created_at,
    )


def list_alert_rules(db: Database, principal: Principal, environment: str) -> list[AlertRuleInfo]:
    """The caller's own alert rules in the environment."""
    with db.session() as session:
        who = standing(session, principal, environment)
        rules = Alerts(session).rules(who.environment.id)
        return [_rule_info(r) for r in rules if r.user_id == principal.user_id]


def add_alert_rule(
    db: Database,
    principal: Principal,
    environment: str,
    kind: str,
    *,
    event_types: Sequence[str] = (),
    flow: str | None = None,
) -> AlertRuleInfo:
    """``email``: mail me these event types (at least one); ``no-digest``: no failure digest, for
    one flow (``flow``: its name or id, one of mine) or for all of mine."""
    with db.session() as session:
        who = standing(session, principal, environment)
        flow_id: str | None = None
        if kind == "email":
            types = check_event_types(event_types)
            if not types:
                raise InputError("an email alert needs at least one event type (e.g. 'run.failed').")
        elif kind == "no-digest":
            types = []
            if flow is not None:
                flow_id = _own_flow(session, who, flow)
        else:
            raise InputError(f"kind must be 'email' or 'no-digest', not {kind!r}.")
        row = Alerts(session).add_rule(
            AlertRule(
                environment_id=who.environment.id,
                user_id=principal.user_id,
                kind=kind,
                event_types=types,
                flow_id=flow_id,
            )
        )
        return _rule_info(row)


def _own_flow(session: Session, who: Standing, flow: str) -> str:
    found = Flows(session).find(who.environment.id, flow)
    if found is None or found.created_by != who.user_id:
        raise NotFound(f"Flow {flow!r} of yours not found in environment {who.environment.name!r}.")
    return found.id


def delete_alert_rule(db: Database, principal: Principal, environment: str, rule_id: str) -> None:
    """Delete one of the caller's alert rules."""
    with db.session() as session:
        who = standing(session, principal, environment)
        alerts = Alerts(session)
        row = alerts.rule(rule_id)
        if row is None or row.user_id != principal.user_id or row.environment_id != who.environment.id:
            raise NotFound(
                f"Alert rule {rule_id!r} of yours not found in environment {who.environment.name!r}."
            )
        alerts.remove_rule(row)


def plan_alert_mails(db: Database, *, now: datetime | None = None, public_url: str = "") -> list[AlertMail]:
    """The mails due now in every environment with an alert connection; their events are marked
    as mailed (the stream position moved) before this returns, so each is planned once."""
    now = now or utcnow()
    planned: list[AlertMail] = []
    with db.session() as session:
        settings = list(Alerts(session).configured())
    for setting in settings:
        with db.session() as session:
            planned.extend(_subscription_mails(session, setting.environment_id, now, public_url))
        with db.session() as session:
            planned.extend(_digest_mails(session, setting.environment_id, now, public_url))
    return planned


def _new_events(
    session: Session, environment_id: str, after: str | None, now: datetime, types: Sequence[str] = ()
) -> list[Event]:
    events = Events(session).list(environment_id, types=types, after=after, limit=_SCAN, newest_first=False)
    return [e for e in events if e.at <= now - _GRACE]


def _subscription_mails(
    session: Session, environment_id: str, now: datetime, public_url: str
) -> list[AlertMail]:
    alerts = Alerts(session)
    setting = alerts.setting(environment_id)
    env = session.get(Environment, environment_id)
    if setting is None or setting.connection_id is None or env is None:
        return []
    events = _new_events(session, environment_id, setting.mail_cursor, now)
    if not events or not alerts.move_cursor(
        environment_id, "mail_cursor", setting.mail_cursor, events[-1].id, now
    ):
        return []
    by_user: dict[str, list[str]] = defaultdict(list)
    for rule in alerts.rules(environment_id, kind="email"):
        by_user[rule.user_id].extend(rule.event_types)
    mails = []
    for user_id, types in by_user.items():
        user = session.get(User, user_id)
        who = standing_of_user(session, env, user_id, is_admin=bool(user and user.is_admin))
        if user is None or not user.email or user.disabled or who is None:
            continue
        cache: dict[tuple[str, str], bool] = {}
        mine = [e for e in events if matches(e.type, types) and visible_to(session, who, e, cache)]
        if not mine:
            continue
        rows = "".join(
            f"<li>{_h(e.at.isoformat(timespec='seconds'))} <b>{_h(e.type)}</b> "
            f"{_h(e.subject_kind)} {_h(e.subject_name or e.subject_id)}{_detail(e)}</li>"
            for e in mine
        )
        subject = f"Tether: {len(mine)} event{'s' if len(mine) != 1 else ''} in {env.name}"
        body = f"<p>New events in environment <b>{_h(env.name)}</b>:</p><ul>{rows}</ul>"
        body += _footer(public_url, env.name)
        mails.append(AlertMail(environment_id, setting.connection_id, user.email, subject, body, "events"))
    return mails


def _digest_mails(session: Session, environment_id: str, now: datetime, public_url: str) -> list[AlertMail]:
    alerts = Alerts(session)
    setting = alerts.setting(environment_id)
    env = session.get(Environment, environment_id)
    if setting is None or setting.connection_id is None or env is None:
        return []
    failures = _new_events(session, environment_id, setting.digest_cursor, now, types=["run.failed"])
    window = timedelta(minutes=setting.digest_minutes)
    if not failures or failures[0].at > now - window:
        return []  # nothing to report, or the oldest failure's window is still open
    if not alerts.move_cursor(environment_id, "digest_cursor", setting.digest_cursor, failures[-1].id, now):
        return []
    muted_users, muted_flows = set(), set()
    for rule in alerts.rules(environment_id, kind="no-digest"):
        if rule.flow_id is None:
            muted_users.add(rule.user_id)
        else:
            muted_flows.add((rule.user_id, rule.flow_id))
    by_owner: dict[str, list[Event]] = defaultdict(list)
    for event in failures:
        owner = event.owner_id
        if owner and owner not in muted_users and (owner, event.subject_id) not in muted_flows:
            by_owner[owner].append(event)
    mails = []
    for owner, events in by_owner.items():
        user = session.get(User, owner)
        if user is None or not user.email or user.disabled:
            continue
        flows = sorted({e.subject_name or e.subject_id for e in events})
        rows = "".join(_failure_row(e, public_url, env.name) for e in events)
        subject = (
            f"Tether: {len(events)} failed run{'s' if len(events) != 1 else ''} of {', '.join(flows)[:120]}"
        )
        body = (
            f"<p>Runs of your flows in environment <b>{_h(env.name)}</b> failed since the last digest:</p>"
            f"<ul>{rows}</ul>"
            "<p>You get one digest per window, not one mail per run. To stop it for a flow: "
            "<code>tether alerts mute --flow NAME</code>.</p>" + _footer(public_url, env.name)
        )
        mails.append(AlertMail(environment_id, setting.connection_id, user.email, subject, body, "digest"))
    return mails


def _failure_row(event: Event, public_url: str, env: str) -> str:
    data = event.data or {}
    run_id = str(data.get("run_id", ""))
    flow = event.subject_name or event.subject_id
    link = f"{public_url}/e/{env}/flows/{flow}/runs/{run_id}" if public_url else run_id
    error = data.get("error") or ""
    return (
        f"<li>{_h(event.at.isoformat(timespec='seconds'))} flow <b>{_h(flow)}</b>, run "
        f'<a href="{_h(link)}">{_h(run_id)}</a>{": " + _h(str(error)) if error else ""}</li>'
    )


def _detail(event: Event) -> str:
    error = (event.data or {}).get("error")
    return f": {_h(str(error))}" if error else ""


def _footer(public_url: str, env: str) -> str:
    where = f"{public_url}/e/{env}/events" if public_url else f"tether events list --env {env}"
    return f'<p style="color:#666">Sent by Tether. See all events: {_h(where)}</p>'


def _h(text: str) -> str:
    return html.escape(text, quote=True)
