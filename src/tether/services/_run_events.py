"""Events of flows at work: a run ended, a trigger failed. Written by the hosting layer.

A run's end is recorded in the same transaction as the run's last commit (the journal's
``finish``), so it adds statements to a commit that happens anyway, never a commit of its own.
``run.succeeded`` is recorded for stateful runs only: a stateless run that succeeds writes
nothing at all by design (its hot path stays free of the database), and a stateless failure is
recorded with the run that its history keeps. The error is what run history shows (secrets
masked); where the environment seals run data, only the error's code.
"""

from __future__ import annotations

from typing import Any, Final

from tether.services._events import Subject, record_event
from tether.store import Database, Flow, flow_facts

__all__ = ["record_run_end", "record_trigger_failure"]

_RUN_EVENTS: Final = {"Failed": "run.failed", "TimedOut": "run.failed", "Succeeded": "run.succeeded"}
_MAX_MESSAGE: Final = 500


def record_run_end(
    connection: Any,
    flow_id: str,
    run_id: str,
    status: str,
    error: Any,
    *,
    stateless: bool = False,
) -> None:
    """Record ``run.failed`` / ``run.succeeded`` (``error``: the run error as history shows it)
    on the journal's connection, in its transaction."""
    event_type = _RUN_EVENTS.get(status)
    if event_type is None or (stateless and event_type == "run.succeeded"):
        return
    facts = flow_facts(connection, flow_id)
    if facts is None:
        return
    environment_id, name, owner = facts
    data: dict[str, Any] = {"run_id": run_id, "status": status}
    if isinstance(error, dict):
        data["error_code"] = str(error.get("code") or "")[:100]
        if isinstance(error.get("message"), str):
            data["error"] = error["message"][:_MAX_MESSAGE]
    subject = Subject("flow", flow_id, name, owner)
    record_event(connection, event_type, environment_id, subject, data=data)


def record_trigger_failure(db: Database, flow_id: str, trigger: str, message: str) -> None:
    """A trigger's poll or subscription failed (``message`` says why, without secrets)."""
    with db.session() as session:
        flow = session.get(Flow, flow_id)
        if flow is None:
            return
        subject = Subject("flow", flow.id, flow.name, flow.created_by)
        data = {"trigger": trigger, "error": message[:_MAX_MESSAGE]}
        record_event(session, "trigger.failed", flow.environment_id, subject, data=data)
