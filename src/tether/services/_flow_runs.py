"""Run use cases: start by hand, list, show with action history, resubmit, cancel, purge; and the
signature of trigger callback URLs (the Request trigger itself is in ``_flow_requests``).

These only write rows: the caller hands the new run id to an executor (``FlowHost.submit``),
so the same functions serve the embedded server and a distributed deployment.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from tether.errors import Conflict, InputError, NotFound
from tether.flows import TriggerSpec, load_flow
from tether.flows.engine import (
    FINAL_RUN_STATUSES,
    manual_trigger_result,
    validate_trigger_body,
)
from tether.secrets import KeyRing
from tether.services._access import Principal, standing
from tether.services._flow_compliance import check_flow_row
from tether.services._flows import check_bindings, checked_flow, mark_revoked, revoked_connections
from tether.services._run_privacy import environment_seals_runs
from tether.services._run_secrets import (
    seal_parameters,
    secure_parameter_names,
    shown_body,
    shown_trigger,
    stored_trigger,
)
from tether.store import Database, Flow, FlowRun, FlowRuns, new_id, utcnow

__all__ = [
    "DEFAULT_RUN_RETENTION",
    "ActionInfo",
    "RunDetail",
    "RunInfo",
    "cancel_run",
    "create_run",
    "flow_trigger",
    "get_run",
    "list_runs",
    "purge_runs",
    "resubmit_run",
    "run_parameters",
    "start_run",
    "trigger_signature",
]

DEFAULT_RUN_RETENTION = timedelta(days=30)  # REFERENCE.md §7


@dataclass(frozen=True, slots=True)
class RunInfo:
    """A run's summary."""

    id: str
    flow_id: str
    status: str
    trigger_name: str
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    error: dict[str, Any] | None
    outputs: dict[str, Any] | None
    response: dict[str, Any] | None
    resubmitted_from: str | None
    started_by: str | None
    cancel_requested: bool


@dataclass(frozen=True, slots=True)
class ActionInfo:
    """One action instance in run history (secrets already redacted)."""

    path: str
    name: str
    type: str
    status: str
    start: str | None
    end: str | None
    code: str | None
    inputs: Any
    outputs: Any
    error: dict[str, Any] | None
    retries: list[dict[str, Any]]
    idempotency_key: str | None


@dataclass(frozen=True, slots=True)
class RunDetail:
    """A run with its trigger and every action instance, in execution order."""

    run: RunInfo
    trigger: dict[str, Any]
    actions: list[ActionInfo]


def run_info(run: FlowRun, keyring: KeyRing | None = None) -> RunInfo:
    """The run's summary; bodies the environment sealed are opened with ``keyring`` (else hidden)."""
    return RunInfo(
        id=run.id,
        flow_id=run.flow_id,
        status=run.status,
        trigger_name=run.trigger_name,
        created_at=run.created_at,
        started_at=run.started_at,
        ended_at=run.ended_at,
        error=shown_body(run.error, keyring),
        outputs=shown_body(run.outputs, keyring),
        response=shown_body(run.response, keyring),
        resubmitted_from=run.resubmitted_from,
        started_by=run.started_by,
        cancel_requested=run.cancel_requested,
    )


def run_parameters(flow: Flow) -> dict[str, Any]:
    """Parameter values for a run: definition defaults, the flow's values, and ``$connections``
    built from the flow's connections mapping (reference name -> Tether connection id)."""
    declared = flow.definition["parameters"] if isinstance(flow.definition.get("parameters"), dict) else {}
    values = {
        name: spec.get("defaultValue") for name, spec in (declared or {}).items() if isinstance(spec, dict)
    }
    values.update(flow.parameters)
    connections = (
        dict(values.get("$connections") or {}) if isinstance(values.get("$connections"), dict) else {}
    )
    for reference, connection_id in flow.connections.items():
        connections[reference] = {
            "connectionId": connection_id,
            "connectionName": reference,
            "id": connection_id,
        }
    if connections or "$connections" in values:
        values["$connections"] = connections
    return values


def create_run(
    session: Session,
    flow: Flow,
    trigger: Mapping[str, Any],
    *,
    started_by: str | None,
    resubmitted_from: str | None = None,
    run_id: str | None = None,
    keyring: KeyRing | None = None,
) -> FlowRun:
    """Insert a Waiting run with the flow's current definition; the caller submits it.

    With ``keyring``, the trigger's secret headers and the secure parameters are stored sealed (and
    the whole trigger when the environment seals run data); without one, secret headers are stored
    redacted, so only callers with no key ring lose them for evaluation.
    """
    encrypt = environment_seals_runs(session, flow.environment_id)
    parameters = mark_revoked(run_parameters(flow), revoked_connections(session, flow))
    if keyring is not None:
        parameters = seal_parameters(parameters, secure_parameter_names(flow.definition), keyring)
    run = FlowRun(
        id=run_id or new_id(),
        flow_id=flow.id,
        environment_id=flow.environment_id,
        status="Waiting",
        trigger_name=str(trigger.get("name", "")),
        trigger=stored_trigger(trigger, keyring, encrypt=encrypt),
        definition=dict(flow.definition),
        parameters=parameters,
        state={},
        cancel_requested=False,
        resubmitted_from=resubmitted_from,
        started_by=started_by,
    )
    return FlowRuns(session).add(run)


def flow_trigger(flow: Flow) -> TriggerSpec:
    """The flow's trigger; InputError when it has none."""
    trigger = load_flow(flow.definition).trigger
    if trigger is None:
        raise InputError(f"flow {flow.name!r} has no trigger")
    return trigger


def _run(
    session: Session, principal: Principal, env: str, flow: str, run_id: str, op: str
) -> tuple[Flow, FlowRun]:
    row = checked_flow(session, standing(session, principal, env), flow, op)
    run = FlowRuns(session).get(run_id)
    if run is None or run.flow_id != row.id:
        raise NotFound(f"Run {run_id!r} not found for flow {row.name!r}.")
    return row, run


def start_run(
    db: Database,
    principal: Principal,
    environment: str,
    flow: str,
    *,
    body: Any = None,
    headers: Mapping[str, str] | None = None,
    keyring: KeyRing | None = None,
) -> RunInfo:
    """Start a run by hand with ``body`` as the trigger's body (owners, co-owners, run-only users, admins).

    The flow sees the caller's headers as sent; ``keyring`` seals the secret ones at rest.
    """
    with db.session() as session:
        row = checked_flow(session, standing(session, principal, environment), flow, "run")
        check_bindings(session, row)
        check_flow_row(session, row)
        trigger = flow_trigger(row)
        if trigger.type == "Request":
            validate_trigger_body(trigger, body)
        result = manual_trigger_result(trigger.name, body, utcnow(), headers=dict(headers or {}))
        run = create_run(session, row, result, started_by=principal.username, keyring=keyring)
        return run_info(run, keyring)


def list_runs(
    db: Database,
    principal: Principal,
    environment: str,
    flow: str,
    *,
    status: str | None = None,
    limit: int = 50,
) -> list[RunInfo]:
    """The flow's runs, newest first (owners, co-owners and admins: run history holds inputs and outputs)."""
    with db.session() as session:
        row = checked_flow(session, standing(session, principal, environment), flow, "read-runs")
        return [
            run_info(r) for r in FlowRuns(session).list(row.id, status=status, limit=min(max(limit, 1), 500))
        ]


def get_run(
    db: Database,
    principal: Principal,
    environment: str,
    flow: str,
    run_id: str,
    *,
    keyring: KeyRing | None = None,
) -> RunDetail:
    """A run with its history (owners, co-owners and admins): secrets were masked when stored; bodies
    the environment sealed are opened with ``keyring``, and values sealed inside them are shown hidden."""
    with db.session() as session:
        _flow, run = _run(session, principal, environment, flow, run_id, "read-runs")
        actions = []
        for row in FlowRuns(session).actions(run.id):
            r = shown_body(row.record, keyring)
            actions.append(
                ActionInfo(
                    path=r["path"],
                    name=r["name"],
                    type=r["type"],
                    status=r["status"],
                    start=r.get("start"),
                    end=r.get("end"),
                    code=r.get("code"),
                    inputs=r.get("inputs"),
                    outputs=r.get("outputs"),
                    error=r.get("error"),
                    retries=r.get("retries") or [],
                    idempotency_key=r.get("idempotency_key"),
                )
            )
        trigger = shown_trigger(shown_body(run.trigger, keyring))
        return RunDetail(run=run_info(run, keyring), trigger=trigger, actions=actions)


def resubmit_run(
    db: Database,
    principal: Principal,
    environment: str,
    flow: str,
    run_id: str,
    *,
    keyring: KeyRing | None = None,
) -> RunInfo:
    """A new run of the flow's current definition with the same trigger outputs as ``run_id``
    (copied as stored: what was sealed stays sealed)."""
    with db.session() as session:
        row, run = _run(session, principal, environment, flow, run_id, "resubmit")
        check_bindings(session, row)
        check_flow_row(session, row)
        trigger = dict(run.trigger)
        new = create_run(
            session, row, trigger, started_by=principal.username, resubmitted_from=run.id, keyring=keyring
        )
        return run_info(new, keyring)


def cancel_run(db: Database, principal: Principal, environment: str, flow: str, run_id: str) -> RunInfo:
    """Ask a run to stop: it ends Cancelled after the action in flight (at once if not started)."""
    with db.session() as session:
        _row, run = _run(session, principal, environment, flow, run_id, "cancel")
        if run.status in FINAL_RUN_STATUSES:
            raise Conflict(
                f"Run {run_id!r} already ended ({run.status}); only waiting or running runs can be cancelled."
            )
        run.cancel_requested = True
        if run.status == "Waiting" and run.claimed_by is None:
            run.status, run.ended_at = "Cancelled", utcnow()
            run.error = {"code": "Cancelled", "message": "The run was cancelled."}
        return run_info(run)


def purge_runs(
    db: Database, *, older_than: timedelta = DEFAULT_RUN_RETENTION, now: datetime | None = None
) -> int:
    """Delete runs that ended more than ``older_than`` ago (the retention period); returns how many.

    Called by the scheduler loop (system housekeeping, no principal) and by admins on demand.
    """
    with db.session() as session:
        return FlowRuns(session).purge((now or utcnow()) - older_than)


@functools.lru_cache(maxsize=4096)  # checked on every call of a callback URL
def trigger_signature(key: bytes, flow_id: str, trigger: str) -> str:
    """The ``sig`` of a Request trigger's callback URL: HMAC-SHA256 of flow id and trigger name."""
    digest = hmac.new(key, f"{flow_id}/triggers/{trigger}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
