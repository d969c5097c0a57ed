"""``tether flow create/update --kind``: stateless flows from the CLI, and a workflow.json's own kind."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Cli

DEFINITION = {
    "triggers": {"manual": {"type": "Request", "kind": "Http"}},
    "actions": {
        "Greet": {"type": "Compose", "inputs": "Hello @{triggerBody()?['name']}"},
        "Reply": {"type": "Response", "runAfter": {"Greet": []}, "inputs": {"body": "@outputs('Greet')"}},
    },
}


def test_flow_kind_from_option_and_from_workflow_json(logged_in: Cli, tmp_path: Path) -> None:
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps(DEFINITION))
    created = logged_in("flow", "create", str(bare), "--name", "quick", "--kind", "stateless")
    assert created.exit_code == 0, created.output
    assert "stateless: runs in memory, stores failures runs" in created.output
    sampled = logged_in("flow", "update", "quick", "--run-history", "sampled:10", "--json")
    assert json.loads(sampled.output)["run_history"] == "sampled:10"
    back = logged_in("flow", "update", "quick", "--kind", "stateful", "--json")
    assert json.loads(back.output)["kind"] == "Stateful"

    standard = tmp_path / "workflow.json"
    standard.write_text(json.dumps({"definition": DEFINITION, "kind": "Stateless"}))
    made = logged_in("flow", "create", str(standard), "--name", "standard", "--json")
    assert made.exit_code == 0, made.output
    assert json.loads(made.output)["kind"] == "Stateless"

    wrong = logged_in("flow", "create", str(bare), "--name", "wrong", "--kind", "durable")
    assert wrong.exit_code == 2 and "not one of Stateful, Stateless" in wrong.output
    history = logged_in(
        "flow", "create", str(bare), "--name", "wrong", "--kind", "stateless", "--run-history", "x"
    )
    assert history.exit_code == 2 and "sampled:N" in history.output
