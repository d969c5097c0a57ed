"""Connections' OpenAPI 3.1 documents built from real corpus connectors validate (pure: no server).

The connectors below declare defaults their own schemas refuse (outside the enum, null for a
string, a flow expression where a date-time belongs); a validator refuses a whole document for
one of them, so the document keeps each as ``x-ms-default``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from tether.definition import load_package
from tether.runtime.compiled import compile_connector
from tether.services._connection_openapi import build_connection_openapi, checked_defaults
from tether.services._operations import UsableConnection, operation_info

CORPUS = Path(__file__).parents[2] / ".." / "shared" / "corpus" / "powerplatform"


# Three of the nine corpus connectors that have such defaults, the cheapest to validate (Morta takes 15 s).
@pytest.mark.parametrize("connector", ["CardsForPowerApps", "HrFlow", "PKIsigning"])
def test_defaults_a_schema_refuses_do_not_break_the_document(connector: str) -> None:
    [folder] = list(CORPUS.glob(f"*/{connector}"))
    compiled = compile_connector("c", 1, load_package(folder).files)
    api = compiled.api
    infos = [operation_info(api, op) for op in api.operations if (op.visibility or "").lower() != "internal"]
    document = build_connection_openapi(
        UsableConnection(compiled, "default", "c1", "mine"), infos, "http://t"
    )
    validate(document)
    assert '"x-ms-default"' in json.dumps(document)


def test_only_refused_defaults_move() -> None:
    schema = {
        "type": "object",
        "properties": {
            "size": {"type": "string", "enum": ["small", "large"], "default": "Default"},
            "count": {"type": "integer", "default": 3},
            "default": {"type": "string", "default": "a property called default"},
        },
    }
    checked = checked_defaults(schema)
    assert checked["properties"]["size"] == {
        "type": "string",
        "enum": ["small", "large"],
        "x-ms-default": "Default",
    }
    assert checked["properties"]["count"] == {"type": "integer", "default": 3}
    assert checked["properties"]["default"] == schema["properties"]["default"]
    assert schema["properties"]["size"]["default"] == "Default"  # the shared description is not changed
