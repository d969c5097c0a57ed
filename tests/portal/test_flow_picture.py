"""The flow picture drawn from real workflow definitions (../shared/samples/flows)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tether.errors import InputError
from tether.flows import load_flow
from tether.portal._flow_picture import flow_picture, render_flow_picture

SAMPLES = Path(__file__).resolve().parents[2] / ".." / "shared" / "samples" / "flows"
FLOW_FILES = sorted(p for p in SAMPLES.glob("*.json") if p.name != "index.json")


def _sample(name: str) -> dict:
    return json.loads((SAMPLES / name).read_text())


@pytest.mark.parametrize("path", FLOW_FILES, ids=lambda p: p.stem)
def test_every_sample_is_drawn_whole_and_in_run_after_order(path: Path) -> None:
    document = json.loads(path.read_text())
    picture = flow_picture(document)
    expected = sorted(a.pointer for a in load_flow(document).all_actions())
    assert sorted(n.pointer for n in picture.nodes()) == expected  # every action once, none invented

    def check(rows) -> None:  # type: ignore[no-untyped-def]
        placed: dict[str, int] = {}
        for index, row in enumerate(rows):
            for node in row:
                placed[node.name] = index
        for node in (n for row in rows for n in row):
            for target in node.run_after:
                if target in placed:
                    assert placed[target] < placed[node.name], f"{node.path} drawn above {target}"
            for branch in node.branches:
                check(branch.rows)

    check(picture.rows)
    html = render_flow_picture(picture)
    assert html.count('class="fp-node') == len(picture.nodes()) + (picture.trigger is not None)
    assert " style=" not in html  # the portal's CSP forbids inline style


def test_try_catch_scopes_nest_and_label_their_run_after_statuses() -> None:
    picture = flow_picture(_sample("lat-try-catch.json"))
    assert picture.trigger is not None and picture.trigger.type == "Request (Http)"
    assert [[n.name for n in row] for row in picture.rows] == [["Try"], ["Catch"]]
    catch = picture.rows[1][0]
    assert catch.run_after == {"Try": ("Failed", "Skipped", "TimedOut")}
    (body,) = catch.branches
    assert [[n.path for n in row] for row in body.rows] == [
        ["Catch/Compensation_Logic"],
        ["Catch/Filter_Try_Scope_Errors"],
        ["Catch/Format_Errors"],
        ["Catch/Terminate"],
    ]
    html = render_flow_picture(picture)
    assert "after Try (Failed, Skipped, TimedOut)" in html
    assert "after Compensation_Logic<" in html  # plain success needs no label


def test_condition_switch_and_loops_draw_each_branch() -> None:
    definition = {
        "triggers": {"manual": {"type": "Request", "kind": "Http", "inputs": {"method": "POST"}}},
        "actions": {
            "Check": {
                "type": "If",
                "expression": {"greater": ["@triggerBody()?['n']", 1]},
                "actions": {"Big": {"type": "Compose", "inputs": 1}},
            },
            "Route": {
                "type": "Switch",
                "expression": "@triggerBody()?['kind']",
                "runAfter": {"Check": ["Succeeded", "Failed"]},
                "cases": {"A": {"case": "a", "actions": {"OnA": {"type": "Compose", "inputs": "a"}}}},
                "default": {"actions": {"Other": {"type": "Compose", "inputs": "?"}}},
            },
            "Each": {
                "type": "Foreach",
                "foreach": "@triggerBody()?['items']",
                "actions": {
                    "Again": {
                        "type": "Until",
                        "expression": "@equals(1, 1)",
                        "actions": {"Tick": {"type": "Compose", "inputs": 0}},
                    }
                },
            },
        },
    }
    picture = flow_picture(definition)
    assert picture.trigger is not None and picture.trigger.summary == "when an HTTP POST is received"
    first, second = picture.rows
    assert [n.name for n in first] == ["Check", "Each"]  # no runAfter between them: same row
    assert [n.name for n in second] == ["Route"]
    check, each = first
    assert [(b.label, [n.path for row in b.rows for n in row]) for b in check.branches] == [
        ("True", ["Check/Big"]),
        ("False", []),
    ]
    assert [b.label for b in second[0].branches] == ["Case A", "Default"]
    assert each.branches[0].rows[0][0].branches[0].rows[0][0].path == "Each/Again/Tick"
    statuses = {"Check": "Succeeded", "Each/Again/Tick": "Failed"}
    html = render_flow_picture(
        picture, statuses=statuses, link_for=lambda path: None if "/" in path else f"#action-{path}"
    )
    assert 'class="fp-node fp-status-failed" data-path="Each/Again/Tick"' in html
    assert '<a href="#action-Check">Check</a>' in html
    assert "after Check (Succeeded, Failed)" in html
    assert '<a href="#action-Each/' not in html  # no link where link_for gives none


def test_names_are_escaped_and_bad_definitions_refused() -> None:
    picture = flow_picture({"triggers": {}, "actions": {"<script>x</script>": {"type": "Compose"}}})
    html = render_flow_picture(picture)
    assert "<script>" not in html and "&lt;script&gt;" in html
    empty = render_flow_picture(flow_picture({"triggers": {}, "actions": {}}))
    assert "No actions yet" in empty
    with pytest.raises(InputError, match="no workflow definition found"):
        flow_picture({"hello": 1})
