"""Power Automate's property paths: ``x?['body/value']`` walks ``body`` then ``value``.

The designer writes these for connector triggers and actions; a property literally named
``body/value`` still wins over the walk.
"""

from __future__ import annotations

import json

import pytest

from tests._paths import SAMPLES, need
from tether.flows import load_flow
from tether.flows.expressions import (
    ExpressionContext,
    ExpressionEvaluationError,
    context_from_json,
    evaluate,
    evaluate_expression,
)

CONTEXT = context_from_json(
    {
        "triggerOutputs": {
            "headers": {"Content-Type": "application/json"},
            "body": {"value": [{"ID": 1}, {"ID": 2}], "file": {"name": "a.txt"}, "empty": None},
        },
        "actions": {
            "Literal": {"outputs": {"body/value": "literal", "body": {"value": "walked"}}},
            "List": {"outputs": {"body": [{"value": 1}]}},
        },
    }
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("triggerOutputs()?['body/value']", [{"ID": 1}, {"ID": 2}], id="trigger-outputs"),
        pytest.param("triggerOutputs()['body/value']", [{"ID": 1}, {"ID": 2}], id="not-null-safe"),
        pytest.param("triggerOutputs()?['headers/Content-Type']", "application/json", id="headers"),
        pytest.param("triggerBody()?['file/name']", "a.txt", id="trigger-body"),
        pytest.param("triggerOutputs()?['Body/File/Name']", "a.txt", id="case-insensitive"),
        pytest.param("triggerOutputs()?[concat('body', '/file')]?['name']", "a.txt", id="computed-key"),
        pytest.param("outputs('Literal')?['body/value']", "literal", id="literal-key-wins"),
        pytest.param("body('Literal')?['value']", "walked", id="plain-access-unchanged"),
        pytest.param("triggerOutputs()?['body/missing']", None, id="null-safe-missing"),
        pytest.param("triggerOutputs()?['nope/value']", None, id="null-safe-missing-first"),
        pytest.param("triggerOutputs()?['body/empty/x']", None, id="null-safe-through-null"),
        pytest.param("outputs('List')?['body/value']", None, id="null-safe-array-segment"),
    ],
)
def test_slash_key_walks_the_path(text, expected) -> None:
    assert evaluate_expression(text, CONTEXT) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        pytest.param(
            "triggerOutputs()['body/missing']",
            "property 'missing' (in 'body/missing') doesn't exist; available properties are 'value', "
            "'file', 'empty' (use ?['body/missing']",
            id="missing-segment",
        ),
        pytest.param(
            "triggerOutputs()['body/empty/x']",
            "cannot select property 'x' of 'body/empty/x' because the value is null",
            id="null-segment",
        ),
        pytest.param(
            "outputs('List')['body/value']",
            "cannot select property 'value' of 'body/value' because it is of type Array",
            id="array-segment",
        ),
    ],
)
def test_missing_segment_without_question_mark_fails(text, fragment) -> None:
    with pytest.raises(ExpressionEvaluationError) as caught:
        evaluate_expression(text, CONTEXT)
    assert fragment in str(caught.value)
    assert caught.value.offset == text.index("[") + 1


def test_sample_flow_splits_and_reads_connector_outputs() -> None:
    """pnp-CheckBrokenLinks splits a SharePoint poll with ``@triggerOutputs()?['body/value']``; each
    run then reads ``triggerOutputs()?['body/ID']`` and ``outputs(...)?['body/value']``."""
    flow = load_flow(json.loads(need(SAMPLES / "flows" / "pnp-CheckBrokenLinks.json").read_text()))
    trigger = flow.trigger
    assert trigger is not None
    poll = {"outputs": {"headers": {}, "body": {"value": [{"ID": 4}, {"ID": 9}]}, "statusCode": 200}}

    items = evaluate(trigger.raw["splitOn"], ExpressionContext(trigger=poll))

    assert items == [{"ID": 4}, {"ID": 9}]
    actions = {action.name: action.raw for action in flow.all_actions()}
    run = ExpressionContext(
        trigger={"outputs": {"headers": {}, "body": items[1], "statusCode": 200}},
        actions={"Get_item_from_broken_links_list": {"outputs": {"body": {"value": [{"ID": 3}]}}}},
    )
    get_item = actions["Get_item_from_broken_links_list"]["inputs"]["parameters"]
    assert evaluate(get_item["$filter"], run) == "PageId eq '9'"
    count = "@length(outputs('Get_item_from_broken_links_list')?['body/value'])"
    assert count in json.dumps(flow.raw)
    assert evaluate(count, run) == 1
