from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests._paths import SAMPLES, need
from tether.errors import InputError, ValidationFailed
from tether.flows import SUPPORTED_ACTIONS, SUPPORTED_TRIGGERS, ensure_valid, load_flow, validate_flow

FLOWS = SAMPLES / "flows"
# Real mistakes in the samples that Logic Apps' own validation would refuse too.
KNOWN_BAD_EXPRESSIONS = {
    # `encodeURIComponent('', items(...)?['RowKey'])`: the function takes one argument.
    "logicapps-arc-ratings-workflow.json": 1,
}


def _sample_names() -> list[str]:
    return sorted(p.name for p in FLOWS.glob("*.json") if p.name != "index.json") if FLOWS.exists() else []


def _flow(actions: dict, trigger: dict | None = None) -> dict:
    return {"triggers": {"manual": trigger or {"type": "Request", "kind": "Http"}}, "actions": actions}


@pytest.mark.parametrize("name", _sample_names())
def test_every_sample_validates_or_names_its_unsupported_feature(name: str) -> None:
    document = json.loads(need(FLOWS / name).read_text())
    index = json.loads((FLOWS / "index.json").read_text())[name]
    issues = validate_flow(load_flow(document, name=name))
    unsupported = sorted(
        {
            *(t for t in index["triggers"] if t not in SUPPORTED_TRIGGERS),
            *(a for a in index["actions"] if a not in SUPPORTED_ACTIONS),
        }
    )
    if not unsupported:
        assert issues == [], [str(i) for i in issues]
        return
    assert issues, f"{name} uses {unsupported}, which Tether does not support, yet validated"
    bad_expressions = [i for i in issues if i.code == "flow/bad-expression"]
    assert len(bad_expressions) == KNOWN_BAD_EXPRESSIONS.get(name, 0), bad_expressions
    issues = [i for i in issues if i.code != "flow/bad-expression"]
    # Only unsupported-type issues, each naming its type; nothing else is wrong with the file.
    assert {i.code for i in issues} <= {"flow/unsupported-trigger", "flow/unsupported-action"}, issues
    named = sorted({i.message.split("'")[1] for i in issues})
    assert named == unsupported


def test_definition_is_found_in_resources_and_arm_templates() -> None:
    definition = _flow({"Compose": {"type": "Compose", "inputs": "@triggerBody()"}})
    for wrapped, pointer in (
        (definition, ""),
        ({"definition": definition}, "/definition"),
        ({"properties": {"definition": definition}}, "/properties/definition"),
        (
            {
                "resources": [
                    {"type": "Microsoft.Web/connections"},
                    {"type": "Microsoft.Logic/workflows", "properties": {"definition": definition}},
                ]
            },
            "/resources/1/properties/definition",
        ),
    ):
        flow = load_flow(wrapped)
        assert flow.pointer == pointer
        assert flow.actions["Compose"].pointer == f"{pointer}/actions/Compose"
    with pytest.raises(InputError, match="no workflow definition found"):
        load_flow({"hello": "world"})


@pytest.mark.parametrize(
    ("actions", "code", "pointer", "message"),
    [
        pytest.param(
            {"A": {"type": "Compose", "inputs": 1, "runAfter": {"Nope": ["Succeeded"]}}},
            "flow/unknown-run-after",
            "/actions/A/runAfter/Nope",
            "runs after 'Nope', which is not an action",
            id="unknown-run-after",
        ),
        pytest.param(
            {
                "A": {"type": "Compose", "inputs": 1, "runAfter": {"B": ["Succeeded"]}},
                "B": {"type": "Compose", "inputs": 1, "runAfter": {"A": ["Succeeded"]}},
            },
            "flow/run-after-cycle",
            "/actions/A/runAfter",
            "A → B → A",
            id="cycle",
        ),
        pytest.param(
            {
                "A": {"type": "Compose", "inputs": 1},
                "B": {"type": "Compose", "inputs": 1, "runAfter": {"A": ["Done"]}},
            },
            "flow/invalid-run-after-status",
            "/actions/B/runAfter/A",
            "'Done' is not a runAfter status",
            id="bad-status",
        ),
        pytest.param(
            {"A": {"type": "Compose", "inputs": {"x": "@concat('a', "}}},
            "flow/bad-expression",
            "/actions/A/inputs/x",
            "column",
            id="bad-expression-with-position",
        ),
        pytest.param(
            {"A": {"type": "JavaScriptCode", "inputs": {}}},
            "flow/unsupported-action",
            "/actions/A/type",
            "'JavaScriptCode' is not supported",
            id="unsupported",
        ),
        pytest.param(
            {
                "S": {
                    "type": "Scope",
                    "actions": {"In": {"type": "Compose", "inputs": 1, "runAfter": {"Out": []}}},
                },
                "Out": {"type": "Compose", "inputs": 1},
            },
            "flow/unknown-run-after",
            "/actions/S/actions/In/runAfter/Out",
            "same scope",
            id="cross-scope",
        ),
    ],
)
def test_issues_have_codes_pointers_and_fixes(actions: dict, code: str, pointer: str, message: str) -> None:
    issues = validate_flow(load_flow(_flow(actions)))
    matching = [i for i in issues if i.code == code]
    assert matching, issues
    assert matching[0].pointer == pointer
    assert message in matching[0].message


def test_nested_branches_are_walked() -> None:
    flow = load_flow(
        _flow(
            {
                "If": {
                    "type": "If",
                    "expression": "@true",
                    "actions": {"Yes": {"type": "Compose", "inputs": 1}},
                    "else": {"actions": {"No": {"type": "Compose", "inputs": "@bad("}}},
                },
                "Switch": {
                    "type": "Switch",
                    "expression": "@1",
                    "cases": {"One": {"case": 1, "actions": {"C1": {"type": "Compose", "inputs": 1}}}},
                    "default": {"actions": {"D": {"type": "Wait", "inputs": {}}}},
                },
            }
        )
    )
    assert sorted(a.name for a in flow.all_actions()) == ["C1", "D", "If", "No", "Switch", "Yes"]
    [issue] = validate_flow(flow)
    assert issue.pointer == "/actions/If/else/actions/No/inputs"


def test_resolver_reports_unknown_operations() -> None:
    flow = load_flow(_flow({"Call": {"type": "ApiConnection", "inputs": {"method": "get", "path": "/x"}}}))
    issues = validate_flow(flow, resolve=lambda spec: f"no operation GET /x on '{spec.name}'")
    assert [(i.code, i.message) for i in issues] == [
        ("flow/unknown-operation", "no operation GET /x on 'Call'")
    ]


def test_ensure_valid_lists_every_issue(tmp_path: Path) -> None:
    flow = load_flow(_flow({"A": {"type": "Nope"}, "B": {"type": "Compose", "inputs": "@x("}}))
    with pytest.raises(ValidationFailed) as caught:
        ensure_valid(flow, name="f.json")
    assert len(caught.value.issues) == 2
    assert caught.value.message.startswith("f.json: /actions/A/type: action type 'Nope'")
