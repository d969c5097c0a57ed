"""The flow editor's reading of its textarea: syntax errors with a place, findings, references."""

from __future__ import annotations

import json
from pathlib import Path

from tether.errors import ValidationFailed
from tether.portal._flow_editing import connection_references, findings_of, offline_findings, parse_definition

SAMPLES = Path(__file__).resolve().parents[2] / ".." / "shared" / "samples" / "flows"


def test_a_syntax_error_says_where() -> None:
    value, findings = parse_definition('{\n  "triggers": {},\n  "actions": {,}\n}')
    assert value is None
    assert [(f.code, f.where) for f in findings] == [("flow/json-syntax", "line 3, column 15")]
    assert parse_definition("  ")[1][0].code == "flow/empty"


def test_offline_findings_list_every_problem_with_its_pointer() -> None:
    definition = {
        "triggers": {"manual": {"type": "Request", "kind": "Http"}},
        "actions": {
            "A": {"type": "Compose", "inputs": "@concat('a'", "runAfter": {"Nope": []}},
            "B": {"type": "Teleport"},
        },
    }
    found = {(f.code, f.where) for f in offline_findings(definition)}
    assert ("flow/unknown-run-after", "/actions/A/runAfter/Nope") in found
    assert ("flow/unsupported-action", "/actions/B/type") in found
    assert any(code == "flow/bad-expression" and where == "/actions/A/inputs" for code, where in found)
    (not_a_flow,) = offline_findings({"hello": 1})
    assert not_a_flow.code == "invalid-input" and "no workflow definition found" in not_a_flow.message
    error = ValidationFailed("bad", issues=[{"code": "flow/x", "message": "m", "pointer": "/a"}])
    assert [(f.code, f.message, f.where) for f in findings_of(error)] == [("flow/x", "m", "/a")]


def test_references_come_from_expressions_hosts_and_declarations() -> None:
    document = json.loads((SAMPLES / "bak-ChildGetDynamicApprover.json").read_text())
    names = connection_references(document)
    assert names and all(isinstance(n, str) for n in names)
    definition = {
        "parameters": {"$connections": {"defaultValue": {"declared": {}}}},
        "triggers": {},
        "actions": {
            "Call": {
                "type": "ApiConnection",
                "inputs": {
                    "host": {"connection": {"name": "@parameters('$connections')['sql']['connectionId']"}}
                },
            },
            "Open": {"type": "OpenApiConnection", "inputs": {"host": {"connectionName": "shared_x"}}},
        },
    }
    assert connection_references(definition, {"bound": "c1"}) == ["bound", "declared", "shared_x", "sql"]
