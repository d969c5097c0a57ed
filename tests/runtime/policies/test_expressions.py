"""The policy template language: every form the corpus uses; and every corpus instance compiles."""

from __future__ import annotations

import json

import pytest

from tests._paths import CORPUS, need
from tether.runtime.policies import InvalidPolicy, Scope, build_policies, compile_template

SCOPE = Scope(
    connection={"host": "h.example", "token:customHost": ".eu", "empty": ""},
    headers={"Region": "3", "Authorization": "tok"},
    query={"indicator_type": "domain", "graphID": "g1"},
    body={"a": {"b": [{"c": 1}]}, "@odata.etag": "W/1", "next": {"href": "/n"}},
    item={"id": 7, "reference": "R"},
    trigger_body={"value": [{"t": "2024"}]},
    method="PATCH",
)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        pytest.param("@connectionParameters('host')", "h.example", id="connection-parameter"),
        pytest.param("https://@ConnectionParameters('host')/api", "https://h.example/api", id="capitalised"),
        pytest.param("@connectionParameters('missing','d.example')", "d.example", id="default"),
        pytest.param("@connectionParameters('empty', 'x')", "x", id="default-for-empty"),
        pytest.param(
            "https://mail.zoho@connectionParameters('token:customHost')", "https://mail.zoho.eu", id="token"
        ),
        pytest.param(
            "https://r@headers('Region')-api.example.com", "https://r3-api.example.com", id="header-inline"
        ),
        pytest.param("Bearer @headers('authorization')", "Bearer tok", id="header-any-case"),
        pytest.param("/graphs/@queryParamters('graphID')", "/graphs/g1", id="pixela-typo"),
        pytest.param("@body().a.b[0].c", 1, id="body-path-typed"),
        pytest.param("@body()['@odata.etag']", "W/1", id="bracket-member"),
        pytest.param("{@body().next}", {"href": "/n"}, id="braced-typed"),
        pytest.param("x={@body().next}", 'x={"href":"/n"}', id="braced-in-text"),
        pytest.param("gt @{triggerBody().value[0].t}", "gt 2024", id="interpolation"),
        pytest.param("@{triggerBody()?.value?[0]?.t}", "2024", id="null-safe"),
        pytest.param("'{@item()['id']}-{@item()['reference']}'", "'7-R'", id="item"),
        pytest.param("@Request.OriginalHTTPMethod", "PATCH", id="request-method"),
        pytest.param(
            "@connectionParameters('host')@connectionParameters('token:customHost')",
            "h.example.eu",
            id="concatenation",
        ),
        pytest.param("user@example.com @@x", "user@example.com @x", id="plain-at-and-escape"),
        pytest.param(401, "401", id="non-string"),
    ],
)
def test_template_forms(template, expected) -> None:
    assert compile_template(template).evaluate(SCOPE) == expected


@pytest.mark.parametrize(
    "template",
    [
        pytest.param("@{body().a", id="unclosed"),
        pytest.param("{@nothing().a}", id="unknown-function"),
        pytest.param("@body()[x]", id="bad-index"),
    ],
)
def test_broken_templates_are_rejected(template) -> None:
    with pytest.raises(InvalidPolicy):
        compile_template(template)


def test_unknown_template_is_rejected_with_the_known_ones() -> None:
    with pytest.raises(InvalidPolicy, match="setheader"):
        build_policies([{"templateId": "nosuchthing", "parameters": {}}])


@pytest.mark.corpus
def test_every_corpus_policy_instance_compiles() -> None:
    count = 0
    for path in sorted(need(CORPUS).glob("*/*/apiProperties.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except ValueError:
            continue  # the broken files are tested by the definition layer
        instances = data.get("properties", {}).get("policyTemplateInstances") or []
        count += len(build_policies(instances))
    assert count >= 770
