"""The event stream: recorded where things happen, read by whoever may see the resource.

Services (and the hosting layer, for runs and triggers) call :func:`record_event` inside the
transaction that did the thing, so an event exists exactly when its change was committed. The
same call queues one delivery per matching webhook subscription (see ``_webhooks``): one
durable step, nothing lost if the process stops before the dispatcher sends it.

Who reads which events: environment admins all of them; everyone else the events of resources
they own or that are shared with them (directly, through a group, or with everyone). An event
holds names, ids and a few plain facts (a status, an error's message), never a secret.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy.orm import Session

from tether.errors import InputError
from tether.services._access import Principal, Standing, standing
from tether.store import (
    Database,
    Environments,
    Event,
    Events,
    Gateway,
    Grants,
    Webhooks,
    append_event,
    environment_name,
    queue_deliveries,
    subscribed_webhooks,
    utcnow,
)

__all__ = [
    "DEFAULT_EVENT_RETENTION",
    "EVENT_TYPES",
    "MAX_EVENTS_KEPT",
    "EventInfo",
    "Subject",
    "check_event_types",
    "event_info",
    "list_events",
    "matches",
    "purge_events",
    "record_event",
    "record_gateway_offline",
    "visible_to",
    "webhook_payload",
]

EVENT_TYPES: Final = (
    "connector.created",
    "connector.updated",
    "connector.shared",
    "connection.shared",
    "flow.shared",
    "gateway.shared",
    "connection.needs_consent",
    "connection.test_failed",
    "run.failed",
    "run.succeeded",
    "trigger.failed",
    "certification.decided",
    "gateway.offline",
    "webhook.test",
)
DEFAULT_EVENT_RETENTION: Final = timedelta(days=30)
MAX_EVENTS_KEPT: Final = 100_000  # per environment, whatever their age
_MAX_LIMIT: Final = 1000
_SCAN: Final = 500  # rows read per pass when filtering what a non-admin may see


@dataclass(frozen=True, slots=True)
class Subject:
    """The resource an event is about: kind (connector, connection, flow, gateway), id, name, owner."""

    kind: str
    id: str
    name: str | None = None
    owner_id: str | None = None


@dataclass(frozen=True, slots=True)
class EventInfo:
    """One event as readers (the API, webhooks, mails) see it."""

    id: str
    type: str
    time: datetime
    environment: str
    subject: dict[str, str | None]
    actor: str | None
    data: dict[str, Any] = field(default_factory=dict)


def check_event_types(types: Sequence[str]) -> list[str]:
    """``types`` if each is a known event type or a family (``run.``, ``run.*``), else InputError."""
    checked: list[str] = []
    for raw in types:
        name = raw.strip().removesuffix("*")
        known = any(t.startswith(name) for t in EVENT_TYPES) if name.endswith(".") else name in EVENT_TYPES
        if not known:
            raise InputError(
                f"{raw!r} is not an event type: use one of {', '.join(EVENT_TYPES)}, "
                "or a family such as 'run.'"
            )
        checked.append(name)
    return checked


def matches(event_type: str, types: Sequence[str]) -> bool:
    """Whether a filter (exact types or families ending in '.'; empty: all) takes ``event_type``."""
    return not types or any(event_type == t or (t.endswith(".") and event_type.startswith(t)) for t in types)


def record_event(
    connection: Any,
    event_type: str,
    environment_id: str,
    subject: Subject,
    *,
    actor: str | None = None,
    data: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> str:
    """Add an event, and its webhook deliveries, to the caller's transaction; the event's id.

    ``connection`` is an ORM session, or the run journal's connection (see ``store._event_writes``).
    """
    at = now or utcnow()
    values = {
        "environment_id": environment_id,
        "type": event_type,
        "at": at,
        "subject_kind": subject.kind,
        "subject_id": subject.id,
        "subject_name": (subject.name or "")[:200] or None,
        "owner_id": subject.owner_id,
        "actor": actor,
        "data": dict(data or {}),
    }
    found = append_event(connection, values)
    hooks = subscribed_webhooks(connection, environment_id, event_type)
    if hooks:
        info = EventInfo(
            id=found,
            type=event_type,
            time=at,
            environment=environment_name(connection, environment_id),
            subject={"kind": subject.kind, "id": subject.id, "name": subject.name},
            actor=actor,
            data=dict(data or {}),
        )
        queue_deliveries(
            connection,
            hooks,
            environment_id=environment_id,
            message_id=f"msg_{found}",
            event_type=event_type,
            payload=webhook_payload(info),
            at=at,
        )
    return found


def event_info(event: Event, environment: str) -> EventInfo:
    return EventInfo(
        id=event.id,
        type=event.type,
        time=event.at,
        environment=environment,
        subject={"kind": event.subject_kind, "id": event.subject_id, "name": event.subject_name},
        actor=event.actor,
        data=dict(event.data or {}),
    )


def webhook_payload(info: EventInfo) -> str:
    """The body a webhook receives: Standard Webhooks' ``{type, timestamp, data}`` shape."""
    body = {
        "type": info.type,
        "timestamp": info.time.isoformat().replace("+00:00", "Z"),
        "data": {
            "id": info.id,
            "environment": info.environment,
            "subject": info.subject,
            "actor": info.actor,
            **info.data,
        },
    }
    return json.dumps(body, separators=(",", ":"), sort_keys=True, default=str)


def visible_to(session: Session, who: Standing, event: Event, cache: dict[tuple[str, str], bool]) -> bool:
    """Whether ``who`` may read ``event`` (admins all; others their own or shared resources)."""
    if who.role == "admin" or (event.owner_id is not None and event.owner_id == who.user_id):
        return True
    key = (event.subject_kind, event.subject_id)
    if key not in cache:
        held = Grants(session).held(event.subject_kind, event.subject_id, who.user_id, who.groups)
        cache[key] = bool(held)
    return cache[key]


def list_events(
    db: Database,
    principal: Principal,
    environment: str,
    *,
    types: Sequence[str] = (),
    since: datetime | None = None,
    after: str | None = None,
    offset: int = 0,
    limit: int = 100,
) -> tuple[list[EventInfo], bool]:
    """A page of the events ``principal`` may read, and whether more follow.

    Newest first; with ``after`` (an event id: following the stream) oldest first from there.
    """
    if not 1 <= limit <= _MAX_LIMIT:
        raise InputError(f"limit must be between 1 and {_MAX_LIMIT}, not {limit}.")
    wanted = check_event_types(types)
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)  # a time without a zone is read as UTC, as everywhere in the API
    with db.session() as session:
        who = standing(session, principal, environment)
        env_id, name = who.environment.id, who.environment.name
        events, cache = Events(session), dict[tuple[str, str], bool]()
        found: list[Event] = []
        cursor, need = after, offset + limit + 1
        newest_first = after is None
        last: str | None = None
        while len(found) < need:
            batch = events.list(
                env_id,
                types=wanted,
                since=since,
                after=cursor if not newest_first else None,
                limit=_SCAN if who.role != "admin" else need,
                newest_first=newest_first,
                before=last if newest_first else None,
            )
            found.extend(e for e in batch if visible_to(session, who, e, cache))
            if len(batch) < (_SCAN if who.role != "admin" else need):
                break
            last = batch[-1].id
            cursor = batch[-1].id
        chunk = found[offset : offset + limit]
        return [event_info(e, name) for e in chunk], len(found) > offset + limit


def purge_events(
    db: Database,
    *,
    now: datetime | None = None,
    retention: timedelta = DEFAULT_EVENT_RETENTION,
    keep: int = MAX_EVENTS_KEPT,
) -> int:
    """Delete events older than ``retention`` or beyond the newest ``keep`` of an environment, and
    finished webhook deliveries older than the retention. The event dispatcher calls it hourly."""
    now = now or utcnow()
    deleted = 0
    with db.session() as session:
        store = Events(session)
        for env in Environments(session).list():
            deleted += store.purge(now - retention, environment_id=env.id, keep=keep)
        deleted += Webhooks(session).purge(now - retention)
    return deleted


def record_gateway_offline(db: Database, gateway_id: str, *, last_agent: str) -> None:
    """The gateway's last connected agent went away: calls through it fail until one returns."""
    with db.session() as session:
        row = session.get(Gateway, gateway_id)
        if row is None:
            return
        subject = Subject("gateway", row.id, row.name, row.created_by)
        record_event(session, "gateway.offline", row.environment_id, subject, data={"last_agent": last_agent})
