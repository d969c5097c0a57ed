"""``tether flow …`` against a real server: create from a file, run and follow, history, resubmit."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests._paths import SAMPLES, need
from tests.cli.conftest import Cli
from tether.cli import app

DEFINITION = {
    "definition": {  # a Logic Apps Standard workflow.json: the CLI finds the definition inside
        "triggers": {"manual": {"type": "Request", "kind": "Http"}},
        "actions": {
            "Greet": {"type": "Compose", "inputs": "Hello @{triggerBody()?['name']}"},
            "Reply": {"type": "Response", "runAfter": {"Greet": []}, "inputs": {"body": "@outputs('Greet')"}},
        },
    }
}


def test_flow_lifecycle(logged_in: Cli, tmp_path: Path) -> None:
    file = tmp_path / "workflow.json"
    file.write_text(json.dumps(DEFINITION))
    created = logged_in("flow", "create", str(file), "--name", "greeter")
    assert created.exit_code == 0, created.output
    assert "greeter" in created.output and "enabled" in created.output
    listed = logged_in("flow", "list", "--json")
    assert [f["name"] for f in json.loads(listed.output)] == ["greeter"]
    assert "manual (Request)" in logged_in("flow", "list").output
    shown = logged_in("flow", "show", "greeter", "--callback-url")
    assert "/api/v1/flows/" in shown.output and "sig=" in shown.output

    ran = logged_in("flow", "run", "greeter", "--body", '{"name": "Ada"}', "--wait", "--json")
    assert ran.exit_code == 0, ran.output
    run = json.loads(ran.output)
    assert run["status"] == "Succeeded" and run["response"]["body"] == "Hello Ada"

    history = logged_in("flow", "run-show", "greeter", run["id"])
    assert "Greet" in history.output and "Succeeded" in history.output
    again = logged_in("flow", "resubmit", "greeter", run["id"], "--json")
    assert json.loads(again.output)["resubmitted_from"] == run["id"]
    runs = logged_in("flow", "runs", "greeter", "--json")
    assert len(json.loads(runs.output)) == 2
    assert logged_in("flow", "runs", "greeter").output.count("Succeeded") == 2

    cancelled = logged_in("flow", "cancel", "greeter", run["id"])
    assert cancelled.exit_code == 2 and "already ended" in cancelled.output

    assert "disabled" in logged_in("flow", "disable", "greeter").output
    assert logged_in("flow", "enable", "greeter", "--json").exit_code == 0
    updated = logged_in("flow", "update", "greeter", "--file", str(file), "--display-name", "Greeter")
    assert "version 2" in updated.output
    assert logged_in("flow", "delete", "greeter", "--yes").exit_code == 0
    assert logged_in("flow", "show", "greeter").exit_code == 2


def test_flow_create_reports_problems(logged_in: Cli, tmp_path: Path) -> None:
    file = tmp_path / "bad.json"
    file.write_text(json.dumps({"triggers": {"t": {"type": "Request"}}, "actions": {"A": {"type": "Nope"}}}))
    result = logged_in("flow", "create", str(file), "--name", "bad")
    assert result.exit_code == 2
    assert "not supported" in result.output
    mapping = logged_in("flow", "create", str(file), "--name", "bad", "--connection", "novalue")
    assert mapping.exit_code == 2 and "NAME=VALUE" in mapping.output


def test_flow_validate_offline_exit_codes(tmp_path) -> None:
    runner = CliRunner()
    good = need(SAMPLES / "flows" / "lat-try-catch.json")
    ok = runner.invoke(app, ["flow", "validate", str(good)])
    assert ok.exit_code == 0, ok.output
    unsupported = runner.invoke(
        app, ["flow", "validate", str(SAMPLES / "flows" / "ux-UnicodeKeys.json"), "--json"]
    )
    assert unsupported.exit_code == 1
    [result] = json.loads(unsupported.output)["results"]
    assert [i["code"] for i in result["issues"]] == ["flow/unsupported-trigger"]
    broken = tmp_path / "broken.json"
    broken.write_text('{"triggers": {}, "actions": {')
    unreadable = runner.invoke(app, ["flow", "validate", str(broken)])
    assert unreadable.exit_code == 2
    assert f"{broken}:1:" in unreadable.output and "Traceback" not in unreadable.output


def test_flow_validate_reports_a_schema_that_cannot_compile(tmp_path) -> None:
    """Issue 13: caught offline, before any call could meet it (it was a 500 at call time)."""
    source = Path(__file__).parents[1] / "flows" / "data" / "docs-response-headers.json"
    definition = json.loads(source.read_text())
    definition["triggers"]["manual"]["inputs"]["schema"]["properties"]["name"]["pattern"] = "[a-"
    file = tmp_path / "workflow.json"
    file.write_text(json.dumps({"definition": definition}))
    result = CliRunner().invoke(app, ["flow", "validate", str(file), "--json"])
    assert result.exit_code == 1, result.output
    [checked] = json.loads(result.output)["results"]
    [issue] = checked["issues"]
    assert issue["code"] == "flow/invalid-trigger-schema"
    assert issue["pointer"].endswith("/triggers/manual/inputs/schema/properties/name/pattern")
    assert "[a-" in issue["message"]
