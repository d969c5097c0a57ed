"""default / enum values against their schema's type, duplicate enums, undeclared required names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tether.definition.lint import lint_package

from ._builders import definition, package

Spec = dict[str, Any]


def task(spec: Spec) -> Spec:
    return spec["definitions"]["Task"]


def done(**extra: Any) -> Callable[[Spec], None]:
    def mutate(spec: Spec) -> None:
        task(spec)["properties"]["done"] = {"type": "boolean", **extra}

    return mutate


def _body_items(spec: Spec) -> None:
    spec["paths"]["/tasks/{taskId}"]["get"]["parameters"].append(
        {
            "name": "body",
            "in": "body",
            "schema": {"type": "array", "items": {"type": "integer", "default": "7"}},
        }
    )


def _allof(spec: Spec) -> None:
    spec["definitions"]["Named"] = {
        "allOf": [{"$ref": "#/definitions/Task"}, {"properties": {"name": {"type": "string"}}}],
        "required": ["id", "name"],
    }


def _open(spec: Spec) -> None:
    task(spec).update(required=["anything"], additionalProperties={"type": "string"})


SCHEMA_VALUE_CASES = [
    pytest.param(
        done(default="false"),
        "structure/default-type-mismatch",
        "/definitions/Task/properties/done/default",
        "default 'false' is a string but the schema type is boolean; write false",
        id="definition-property-default",
    ),
    pytest.param(
        _body_items,
        "structure/default-type-mismatch",
        "/paths/~1tasks~1{taskId}/get/parameters/2/schema/items/default",
        "default '7' is a string but the schema type is integer; write 7",
        id="body-items-default",
    ),
    pytest.param(
        done(enum=[True, "false"]),
        "structure/default-type-mismatch",
        "/definitions/Task/properties/done/enum/1",
        "enum value 'false' is a string but the schema type is boolean; write false",
        id="enum-value-type",
    ),
    pytest.param(
        lambda s: task(s)["properties"]["id"].update(enum=["a", "b", "a"]),
        "structure/duplicate-enum-value",
        "/definitions/Task/properties/id/enum/2",
        "enum lists 'a' more than once",
        id="duplicate-enum",
    ),
    pytest.param(
        lambda s: task(s).update(required=["id", "titel"]),
        "structure/required-property-undeclared",
        "/definitions/Task/required",
        "requires 'titel' but its `properties` do not declare it",
        id="required-undeclared",
    ),
    pytest.param(
        lambda s: task(s)["properties"].update(
            tags={"type": "array", "items": {"type": "object"}, "required": ["name"]}
        ),
        "structure/required-property-undeclared",
        "/definitions/Task/properties/tags/required",
        "move it into `items`",
        id="required-on-array",
    ),
]


@pytest.mark.parametrize(("mutate", "rule", "pointer", "message"), SCHEMA_VALUE_CASES)
def test_schema_value_rules_fire(
    mutate: Callable[[Spec], None], rule: str, pointer: str, message: str
) -> None:
    spec = definition()
    mutate(spec)
    found = [f for f in lint_package(package(spec)) if f.rule == rule]
    assert [f.pointer for f in found] == [pointer], [str(f) for f in found]
    assert message in found[0].message
    assert found[0].severity == "warning" and found[0].line is not None


LEGAL_CASES = [
    pytest.param(done(default=True, enum=[True, False]), id="matching-default-and-enum"),
    pytest.param(done(default=None), id="null-default"),
    pytest.param(
        lambda s: task(s)["properties"].update(n={"type": ["integer", "string"], "default": "x"}),
        id="type-list",
    ),
    pytest.param(
        lambda s: task(s)["properties"].update(n={"type": "integer", "default": 2.0}), id="whole-float"
    ),
    pytest.param(_allof, id="required-through-allof"),
    pytest.param(_open, id="required-with-additional-properties"),
    pytest.param(
        lambda s: task(s).update(required=["x"], **{"x-ms-dynamic-schema": {"operationId": "GetTask"}}),
        id="required-with-dynamic-schema",
    ),
    pytest.param(
        lambda s: task(s)["properties"]["id"].update(example={"default": "x", "type": "boolean"}),
        id="literal-example-ignored",
    ),
    pytest.param(lambda s: task(s)["properties"].update(flag={"enum": [1, True]}), id="one-and-true-differ"),
]


@pytest.mark.parametrize("mutate", LEGAL_CASES)
def test_legal_schemas_are_quiet(mutate: Callable[[Spec], None]) -> None:
    spec = definition()
    mutate(spec)
    rules = {
        "structure/default-type-mismatch",
        "structure/duplicate-enum-value",
        "structure/required-property-undeclared",
    }
    noisy = [str(f) for f in lint_package(package(spec)) if f.rule in rules]
    assert noisy == []


def test_duplicate_enums_are_errors_for_certification() -> None:
    spec = definition()
    task(spec)["properties"]["id"]["enum"] = ["a", "a"]
    found = [f for f in lint_package(package(spec), profile="certification") if "enum" in f.rule]
    assert [f.severity for f in found] == ["error"]
