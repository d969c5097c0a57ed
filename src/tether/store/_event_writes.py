"""Appending an event, and queueing its webhook deliveries, with Core statements built once.

Events are written from services (an ORM session) and from the run journal's last commit (a
plain connection, or on SQLite the event loop's :class:`~tether.store.DirectConnection`), so,
like :class:`~tether.store.FlowRuns`, these statements take JSON as already-encoded text and run
on any of the three: a run's end adds a few statements to a commit that happens anyway.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, select, true

from tether.store._events import Event, event_id
from tether.store._flow_runs import _json
from tether.store._flows import Flow
from tether.store._models import Environment, new_id
from tether.store._webhooks import Webhook, WebhookDelivery

__all__ = ["append_event", "environment_name", "flow_facts", "queue_deliveries", "subscribed_webhooks"]


def _table(model: type[Any]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)  # declarative models map to a Table
    return table


_events, _hooks, _deliveries = _table(Event), _table(Webhook), _table(WebhookDelivery)
_flows, _environments = _table(Flow), _table(Environment)

_INSERT_EVENT = _events.insert().values(
    {
        **{
            name: bindparam(name)
            for name in (
                "id", "environment_id", "type", "at", "subject_kind", "subject_id", "subject_name",
                "owner_id", "actor",
            )
        },
        "data": _json("data"),
    }
)  # fmt: skip
_HOOKS = select(_hooks.c.id, _hooks.c.event_types).where(
    _hooks.c.environment_id == bindparam("environment_id"), _hooks.c.enabled == true()
)
_INSERT_DELIVERY = _deliveries.insert().values(
    {
        **{
            name: bindparam(name)
            for name in (
                "id", "webhook_id", "environment_id", "message_id", "event_type", "payload", "status",
                "attempts", "next_attempt_at", "created_at",
            )
        },
        "attempts_log": _json("attempts_log"),
    }
)  # fmt: skip
_FLOW = select(_flows.c.environment_id, _flows.c.name, _flows.c.created_by).where(
    _flows.c.id == bindparam("flow_id")
)
_ENVIRONMENT = select(_environments.c.name).where(_environments.c.id == bindparam("environment_id"))


def append_event(connection: Any, values: dict[str, Any]) -> str:
    """Insert an event (``data`` a dict); its new id."""
    found = event_id(int(values["at"].timestamp() * 1000))
    connection.execute(_INSERT_EVENT, {**values, "id": found, "data": json.dumps(values.get("data") or {})})
    return found


def subscribed_webhooks(connection: Any, environment_id: str, event_type: str) -> list[str]:
    """Ids of the environment's enabled webhooks whose filter takes ``event_type``."""
    found = []
    for hook_id, types in connection.execute(_HOOKS, {"environment_id": environment_id}).fetchall():
        wanted: Sequence[str] = json.loads(types) if isinstance(types, str) else (types or [])
        if not wanted or any(
            event_type == t or (t.endswith(".") and event_type.startswith(t)) for t in wanted
        ):
            found.append(hook_id)
    return found


def queue_deliveries(
    connection: Any,
    webhook_ids: Sequence[str],
    *,
    environment_id: str,
    message_id: str,
    event_type: str,
    payload: str,
    at: datetime,
) -> None:
    """One pending delivery per webhook, due at once."""
    for hook_id in webhook_ids:
        connection.execute(
            _INSERT_DELIVERY,
            {
                "id": new_id(),
                "webhook_id": hook_id,
                "environment_id": environment_id,
                "message_id": message_id,
                "event_type": event_type,
                "payload": payload,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": at,
                "created_at": at,
                "attempts_log": "[]",
            },
        )


def flow_facts(connection: Any, flow_id: str) -> tuple[str, str, str | None] | None:
    """A flow's environment id, name and owner, or None."""
    row = connection.execute(_FLOW, {"flow_id": flow_id}).fetchone()
    return (row[0], row[1], row[2]) if row is not None else None


def environment_name(connection: Any, environment_id: str) -> str:
    row = connection.execute(_ENVIRONMENT, {"environment_id": environment_id}).fetchone()
    return str(row[0]) if row is not None else environment_id
