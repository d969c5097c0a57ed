from __future__ import annotations

import re

import pytest

import tether.definition.lint as lint
from tether.definition.lint import PROFILES, RULES, lint_package, rules_for
from tether.definition.lint._registry import define_rule

from ._builders import definition, package, properties


def test_exported_members() -> None:
    assert sorted(lint.__all__) == sorted(
        [
            "PROFILES",
            "RULES",
            "SEVERITIES",
            "Finding",
            "Profile",
            "Rule",
            "Severity",
            "limit_finding",
            "lint_document",
            "lint_package",
            "rules_for",
        ]
    )


def test_rule_ids_are_unique_slugs_with_descriptions() -> None:
    for rule_id, rule in RULES.items():
        assert rule.id == rule_id
        assert re.fullmatch(r"[a-z-]+/[a-z0-9-]+", rule_id), rule_id
        assert rule.description and "\n" not in rule.description
        assert set(rule.profiles) <= set(PROFILES)
    with pytest.raises(RuntimeError):
        define_rule("structure/invalid-schema", "error", "again")


def test_every_profile_lists_its_rules() -> None:
    custom = {r.id for r in rules_for("custom")}
    certification = {r.id for r in rules_for("certification")}
    assert custom < certification
    assert "certification/title-too-long" in certification - custom


def test_every_emitted_rule_is_registered() -> None:
    spec = definition()
    spec["paths"]["/tasks/{taskId}"]["get"]["x-ms-visbility"] = "internal"
    spec["info"]["title"] = "The Contoso Tasks API Connector!"
    for profile in PROFILES:
        findings = lint_package(package(spec, properties()), profile=profile)
        assert findings
        assert all(f.rule in RULES and profile in RULES[f.rule].profiles for f in findings)
