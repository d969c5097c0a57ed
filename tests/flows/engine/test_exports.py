from __future__ import annotations

import tether.flows.engine
from tether.flows import SUPPORTED_ACTIONS
from tether.flows.engine.actions import ACTIONS


def test_engine_exports() -> None:
    assert sorted(tether.flows.engine.__all__) == sorted(
        [
            "ACTION_STATUSES", "DEFAULT_POLICY", "FINAL_ACTION_STATUSES", "FINAL_RUN_STATUSES", "REDACTED",
            "RUN_STATUSES", "SYSTEM_CLOCK", "ActionFailure", "ActionRecord", "Clock", "ConnectorCaller",
            "ConnectorReply", "EmbeddedExecutor", "EngineServices", "Executor", "MemoryJournal",
            "NoConnectorCaller", "Recurrence", "RecurrenceError", "RetryPolicy", "Run", "RunJournal",
            "RunOutcome", "RunSpec", "RunState", "SimulatedCrash", "StatelessJournal", "SystemClock",
            "VirtualClock",
            "duration_seconds", "execute_run", "history_view", "idempotency_key", "isoformat",
            "form_body", "manual_trigger_result", "recurrence_trigger_result", "redact_headers",
            "request_trigger_result", "scope_status", "validate_trigger_body",
            # Data policy endpoint rules for the Http action (issue 16)
            "HostRules", "NO_HOST_RULES",
        ]
    )  # fmt: skip
    for name in tether.flows.engine.__all__:
        assert hasattr(tether.flows.engine, name)


def test_every_supported_action_has_a_handler() -> None:
    assert set(ACTIONS) == set(SUPPORTED_ACTIONS)
