"""HttpWebhook triggers validate like Logic Apps': a subscribe call, optionally an unsubscribe call."""

from __future__ import annotations

import pytest

from tether.flows import load_flow, validate_flow


def _flow(inputs: dict) -> dict:
    return {
        "triggers": {"hook": {"type": "HttpWebhook", "inputs": inputs}},
        "actions": {"A": {"type": "Compose", "inputs": "@triggerBody()"}},
    }


SUBSCRIBE = {
    "method": "POST",
    "uri": "https://events.example/subscribe",
    "body": {"to": "@{listCallbackUrl()}"},
}


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        pytest.param({"subscribe": SUBSCRIBE}, [], id="subscribe-only"),
        pytest.param(
            {"subscribe": SUBSCRIBE, "unsubscribe": {"method": "DELETE", "uri": "https://events.example/s"}},
            [],
            id="both",
        ),
        pytest.param({}, [("/triggers/hook/inputs/subscribe", "'method' and 'uri'")], id="no-subscribe"),
        pytest.param(
            {"subscribe": {"uri": "https://x.example"}, "unsubscribe": {"method": "POST"}},
            [
                ("/triggers/hook/inputs/subscribe", "needs 'method'"),
                ("/triggers/hook/inputs/unsubscribe", "needs 'uri'"),
            ],
            id="each-part-missing-something",
        ),
    ],
)
def test_http_webhook_inputs(inputs: dict, expected: list[tuple[str, str]]) -> None:
    issues = validate_flow(load_flow(_flow(inputs)))
    assert [(i.pointer, i.code) for i in issues] == [(p, "flow/bad-trigger-inputs") for p, _ in expected]
    for issue, (_pointer, words) in zip(issues, expected, strict=True):
        assert words in issue.message
