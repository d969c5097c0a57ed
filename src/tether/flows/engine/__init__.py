"""The run engine: executes one run of a workflow definition, durably, action by action.

    services = EngineServices(clock=VirtualClock(), connectors=my_caller)
    outcome = await execute_run(RunSpec(run_id, load_flow(doc), trigger), MemoryJournal(), services)

Executors (embedded asyncio tasks now, Celery later) call :func:`execute_run` with a durable
journal and the state loaded from it; the engine is the same in both.
"""

from __future__ import annotations

from tether.flows.engine._clock import SYSTEM_CLOCK, Clock, SystemClock, VirtualClock
from tether.flows.engine._durations import duration_seconds
from tether.flows.engine._errors import ActionFailure
from tether.flows.engine._executor import EmbeddedExecutor, Executor
from tether.flows.engine._host_rules import NO_HOST_RULES, HostRules
from tether.flows.engine._journal import MemoryJournal, RunJournal, SimulatedCrash, StatelessJournal
from tether.flows.engine._model import (
    ACTION_STATUSES,
    FINAL_ACTION_STATUSES,
    FINAL_RUN_STATUSES,
    RUN_STATUSES,
    ActionRecord,
    RunOutcome,
    RunState,
    isoformat,
)
from tether.flows.engine._recurrence import Recurrence, RecurrenceError
from tether.flows.engine._redact import REDACTED, history_view, redact_headers
from tether.flows.engine._retry import DEFAULT_POLICY, RetryPolicy
from tether.flows.engine._runner import Run, RunSpec, execute_run, idempotency_key, scope_status
from tether.flows.engine._services import ConnectorCaller, ConnectorReply, EngineServices, NoConnectorCaller
from tether.flows.engine._trigger import (
    form_body,
    manual_trigger_result,
    recurrence_trigger_result,
    request_trigger_result,
    validate_trigger_body,
)

__all__ = [
    "ACTION_STATUSES",
    "DEFAULT_POLICY",
    "FINAL_ACTION_STATUSES",
    "FINAL_RUN_STATUSES",
    "NO_HOST_RULES",
    "REDACTED",
    "RUN_STATUSES",
    "SYSTEM_CLOCK",
    "ActionFailure",
    "ActionRecord",
    "Clock",
    "ConnectorCaller",
    "ConnectorReply",
    "EmbeddedExecutor",
    "EngineServices",
    "Executor",
    "HostRules",
    "MemoryJournal",
    "NoConnectorCaller",
    "Recurrence",
    "RecurrenceError",
    "RetryPolicy",
    "Run",
    "RunJournal",
    "RunOutcome",
    "RunSpec",
    "RunState",
    "SimulatedCrash",
    "StatelessJournal",
    "SystemClock",
    "VirtualClock",
    "duration_seconds",
    "execute_run",
    "form_body",
    "history_view",
    "idempotency_key",
    "isoformat",
    "manual_trigger_result",
    "recurrence_trigger_result",
    "redact_headers",
    "request_trigger_result",
    "scope_status",
    "validate_trigger_body",
]
