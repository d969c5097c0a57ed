"""The Request trigger: its signed callback URL, and what firing it checks and creates.

A Request trigger's URL carries an HMAC of the flow id and trigger name (``sig``), as Logic Apps'
callback URLs do; whoever holds the URL may fire the flow. The checks live here once, for the
plain service (:func:`invoke_trigger`, which inserts a Waiting run) and for the serving process's
fast road (``FlowHost.fire_request``), which keeps each flow's :class:`RequestTarget` in
memory and inserts the run already claimed by the process that runs it.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tether.errors import AuthError, Conflict, InputError, NotFound
from tether.flows import FlowDefinition, match_relative_path, relative_path
from tether.flows.engine import request_trigger_result, validate_trigger_body
from tether.secrets import KeyRing
from tether.services._access import Principal, standing
from tether.services._flow_runs import (
    RunInfo,
    create_run,
    flow_trigger,
    run_info,
    run_parameters,
    trigger_signature,
)
from tether.services._flows import checked_flow, mark_revoked, revoked_connections
from tether.services._run_codec import EMPTY_PROGRESS, compiled_definition, encode
from tether.services._run_privacy import environment_seals_runs
from tether.services._run_secrets import seal_parameters, secure_parameter_names, stored_trigger
from tether.store import Database, Flows, utcnow

__all__ = [
    "RequestTarget",
    "accept_request",
    "callback_url",
    "check_trigger_signature",
    "invoke_trigger",
    "request_target",
    "run_values",
]


def callback_url(
    db: Database, principal: Principal, environment: str, flow: str, *, key: bytes, public_url: str
) -> str:
    """The signed URL that fires the flow's Request trigger (anyone holding it can; keep it secret)."""
    with db.session() as session:
        row = checked_flow(session, standing(session, principal, environment), flow, "update")
        trigger = flow_trigger(row)
        if trigger.type != "Request":
            raise InputError(
                f"flow {row.name!r} has a {trigger.type} trigger; only Request triggers have a URL"
            )
        signature = trigger_signature(key, row.id, trigger.name)
        template = relative_path(trigger.raw)
        # As Logic Apps' listCallbackUrl: a relativePath shows as a template the caller fills in.
        route = f"paths/invoke/{template}" if template else "invoke"
        return f"{public_url}/api/v1/flows/{row.id}/triggers/{trigger.name}/{route}?sig={signature}"


def check_trigger_signature(key: bytes, flow_id: str, trigger_name: str, sig: str | None) -> None:
    """Refuse a callback URL whose signature is missing or wrong (before anything is read)."""
    expected = trigger_signature(key, flow_id, trigger_name)
    # As bytes: compare_digest refuses str with non-ASCII characters (a 500 found by fuzzing).
    if not sig or not hmac.compare_digest(sig.encode(), expected.encode()):
        raise AuthError("the callback URL's signature is missing or wrong; get the URL again from the flow")


@dataclass(frozen=True)
class RequestTarget:
    """A flow as its Request trigger's endpoint needs it: read once, kept while the flow is unchanged.

    The definition is loaded, and it and the run parameters encoded, once per flow version rather
    than once per request; every run of the version stores the same snapshot text.
    """

    flow_id: str
    environment_id: str
    version: int
    enabled: bool
    definition: FlowDefinition
    definition_text: str
    parameters_text: str
    answers: bool  # the flow has a Response action: the caller waits for it
    seals_runs: bool = False  # the environment's encrypt_run_data
    kind: str = "Stateful"  # Stateless: runs in memory (hosting/_stateless.py)
    run_history: str = "failures"  # which stateless runs are stored


def request_target(db: Database, flow_id: str, *, keyring: KeyRing | None = None) -> RequestTarget:
    """Read ``flow_id`` for its Request trigger's endpoint; raises NotFound. With ``keyring``, the
    secure parameters in ``parameters_text`` are sealed (as every run row keeps them)."""
    with db.session() as session:
        row = Flows(session).get(flow_id)
        if row is None:
            raise NotFound("flow not found")
        text = encode(row.definition)
        definition = compiled_definition(text, row.definition)
        parameters = mark_revoked(run_parameters(row), revoked_connections(session, row))
        if keyring is not None:
            parameters = seal_parameters(parameters, secure_parameter_names(row.definition), keyring)
        return RequestTarget(
            flow_id=row.id,
            environment_id=row.environment_id,
            version=row.version,
            enabled=row.enabled,
            definition=definition,
            definition_text=text,
            parameters_text=encode(parameters),
            answers=any(a.type == "Response" for a in definition.all_actions()),
            seals_runs=environment_seals_runs(session, row.environment_id),
            kind=row.kind,
            run_history=row.run_history,
        )


def accept_request(
    target: RequestTarget,
    trigger_name: str,
    *,
    method: str,
    headers: Mapping[str, str],
    queries: Mapping[str, str],
    body: Any,
    path: str = "",
) -> dict[str, Any]:
    """Check a call of the flow's Request trigger (name, on/off, method, relative path, body schema)
    and return the trigger result the run starts with: headers as sent, since the flow may check
    them (an ``x-api-key``); the run row seals the secret ones and history hides them.

    ``path`` is what follows ``/paths/invoke/`` in the URL; it must fit the trigger's
    ``relativePath`` (``customers/{id}``), whose parameters become ``relativePathParameters``.
    """
    trigger = target.definition.trigger
    if trigger is None or trigger.name != trigger_name or trigger.type != "Request":
        raise NotFound(f"flow has no Request trigger named {trigger_name!r}")
    if not target.enabled:
        raise Conflict("the flow is disabled; enable it to accept requests")
    inputs = trigger.raw.get("inputs")
    wanted = inputs.get("method") if isinstance(inputs, dict) else None
    if wanted and str(wanted).upper() != method.upper():
        raise InputError(f"this trigger accepts {str(wanted).upper()} requests, not {method.upper()}")
    template, given = relative_path(trigger.raw), path.strip("/")
    path_parameters = None
    if template or given:
        path_parameters = match_relative_path(template, given)
        if path_parameters is None:
            wanted = f"paths/invoke/{template}" if template else "invoke (it has no relativePath)"
            raise NotFound(
                f"no route for '{given}': call this trigger at .../triggers/{trigger.name}/{wanted}"
            )
    validate_trigger_body(trigger, body)
    return request_trigger_result(
        trigger.name,
        headers=dict(headers),
        queries=queries,
        body=body,
        now=utcnow(),
        path_parameters=path_parameters,
    )


def run_values(
    target: RequestTarget,
    trigger: Mapping[str, Any],
    *,
    run_id: str,
    now: datetime,
    claimed_by: str | None = None,
    claimed_until: datetime | None = None,
    keyring: KeyRing | None = None,
) -> dict[str, Any]:
    """The row of a new run of ``target`` (for ``FlowRuns.insert_run``): Waiting for an executor,
    or already Running when ``claimed_by`` names the process that advances it right away (with
    the state that process's journal starts from, see ``ClaimedRun.progress``)."""
    return {
        "id": run_id,
        "flow_id": target.flow_id,
        "environment_id": target.environment_id,
        "status": "Running" if claimed_by else "Waiting",
        "trigger_name": str(trigger.get("name", "")),
        "trigger": encode(stored_trigger(trigger, keyring, encrypt=target.seals_runs)),
        "definition": target.definition_text,
        "parameters": target.parameters_text,
        "state": EMPTY_PROGRESS if claimed_by else "{}",
        "cancel_requested": False,
        "resubmitted_from": None,
        "started_by": None,
        "claimed_by": claimed_by,
        "claimed_until": claimed_until if claimed_by else None,
        "created_at": now,
        "started_at": now if claimed_by else None,
    }


def invoke_trigger(
    db: Database,
    flow_id: str,
    trigger_name: str,
    *,
    sig: str | None,
    key: bytes,
    method: str,
    headers: Mapping[str, str],
    queries: Mapping[str, str],
    body: Any,
    path: str = "",
    keyring: KeyRing | None = None,
) -> tuple[RunInfo, bool]:
    """Fire a Request trigger from its signed URL; returns the run (Waiting) and whether the flow
    answers synchronously (it has a Response action). No principal: the signature is the credential.

    The serving process takes a faster road to the same checks (``FlowHost.fire_request``).
    """
    check_trigger_signature(key, flow_id, trigger_name, sig)
    target = request_target(db, flow_id, keyring=keyring)
    result = accept_request(
        target,
        trigger_name,
        method=method,
        headers=headers,
        queries=queries,
        body=body,
        path=path,
    )
    with db.session() as session:
        row = Flows(session).get(flow_id)
        if row is None:
            raise NotFound("flow not found")
        run = create_run(session, row, result, started_by=None, keyring=keyring)
        return run_info(run, keyring), target.answers
