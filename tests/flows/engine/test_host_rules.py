"""A data policy's endpoint rules for Http actions: denied patterns first, then the allow list."""

from __future__ import annotations

import pytest

from tether.flows.engine import NO_HOST_RULES, HostRules

RULES = HostRules.of(
    allowed=["*.example.com", "api.partner.test"], denied=["secret.example.com", "*.evil.test"]
)


@pytest.mark.parametrize(
    ("host", "refused"),
    [
        pytest.param("api.example.com", None, id="allowed-by-wildcard"),
        pytest.param("API.Example.COM.", None, id="case-and-trailing-dot-ignored"),
        pytest.param("api.partner.test", None, id="allowed-exactly"),
        pytest.param("secret.example.com", "denied pattern 'secret.example.com'", id="denied-beats-allowed"),
        pytest.param("x.evil.test", "denied pattern '*.evil.test'", id="denied-by-wildcard"),
        pytest.param(
            "example.com", "not in the environment's data policy allowed hosts", id="wildcard-needs-a-label"
        ),
        pytest.param("other.test", "not in the environment's data policy allowed hosts", id="not-allowed"),
    ],
)
def test_rules_refuse_with_the_rule_named(host: str, refused: str | None) -> None:
    reason = RULES.refusal(host)
    if refused is None:
        assert reason is None
    else:
        assert reason is not None and refused in reason


def test_no_rules_allow_every_host() -> None:
    assert NO_HOST_RULES.refusal("anything.test") is None
    assert HostRules.of(denied=[" ", ""]) == NO_HOST_RULES
