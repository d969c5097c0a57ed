"""Local $ref resolution: pointers, escapes, cycles, sharing, errors, external refs."""

from __future__ import annotations

import pytest

from tether.definition._refs import ExternalRef, Resolver, UnresolvedReference
from tether.errors import InputError


def test_resolves_definitions_and_shares_the_result() -> None:
    doc = {
        "definitions": {"Pet": {"type": "object", "properties": {"id": {"type": "integer"}}}},
        "a": {"$ref": "#/definitions/Pet"},
        "b": {"type": "array", "items": {"$ref": "#/definitions/Pet"}},
    }
    resolver = Resolver(doc)
    a = resolver.schema(doc["a"], "/a")
    b = resolver.schema(doc["b"], "/b")
    assert a == doc["definitions"]["Pet"]
    assert b["items"] is a  # one shared object, not copies
    assert doc["b"]["items"] == {"$ref": "#/definitions/Pet"}  # the source is untouched


def test_subtree_without_refs_is_returned_as_is() -> None:
    schema = {"type": "object", "properties": {"x": {"type": "string"}}}
    assert Resolver({}).schema(schema, "/s") is schema


def test_self_referencing_schema_becomes_a_finite_cycle() -> None:
    doc = {
        "definitions": {
            "Node": {
                "type": "object",
                "properties": {
                    "children": {"type": "array", "items": {"$ref": "#/definitions/Node"}},
                    "parent": {"$ref": "#/definitions/Node"},
                },
            }
        }
    }
    node = Resolver(doc).schema({"$ref": "#/definitions/Node"}, "/x")
    assert node["properties"]["children"]["items"] is node
    assert node["properties"]["parent"] is node


def test_mutually_recursive_schemas_with_sibling_overrides() -> None:
    doc = {
        "definitions": {
            "A": {"type": "object", "properties": {"b": {"$ref": "#/definitions/B", "description": "to B"}}},
            "B": {"type": "object", "properties": {"a": {"$ref": "#/definitions/A", "x-ms-summary": "A"}}},
        }
    }
    a = Resolver(doc).schema({"$ref": "#/definitions/A"}, "/x")
    b = a["properties"]["b"]
    assert b["description"] == "to B" and b["type"] == "object"
    back = b["properties"]["a"]
    # The override was filled in once A was complete.
    assert back["x-ms-summary"] == "A" and back["properties"]["b"] is b


def test_ref_to_itself_does_not_loop() -> None:
    doc = {"definitions": {"Loop": {"$ref": "#/definitions/Loop"}}}
    assert Resolver(doc).schema({"$ref": "#/definitions/Loop"}, "/x") == {}


def test_siblings_override_the_target() -> None:
    doc = {"definitions": {"T": {"type": "string", "description": "generic"}}}
    out = Resolver(doc).schema({"$ref": "#/definitions/T", "description": "specific"}, "/p")
    assert out == {"type": "string", "description": "specific"}


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        pytest.param("#/paths/~1pets~1{id}/get", "op", id="tilde-one-is-slash"),
        pytest.param("#/definitions/a~0b", "tilde", id="tilde-zero-is-tilde"),
        pytest.param("#/definitions/My%20Type", "space", id="percent-encoded"),
        pytest.param("#/list/1", "second", id="array-index"),
    ],
)
def test_pointer_escapes(ref: str, expected: str) -> None:
    doc = {
        "paths": {"/pets/{id}": {"get": "op"}},
        "definitions": {"a~b": "tilde", "My Type": "space"},
        "list": ["first", "second"],
    }
    value, _pointer = Resolver(doc).lookup(ref, at="/x")
    assert value == expected


def test_lookup_returns_the_canonical_pointer() -> None:
    doc = {"paths": {"/pets/{id}": {"get": {}}}}
    _value, pointer = Resolver(doc).lookup("#/paths/~1pets~1{id}/get", at="")
    assert pointer == "/paths/~1pets~1{id}/get"


def test_unresolvable_ref_names_ref_and_location() -> None:
    doc = {"definitions": {"Pet": {}}, "paths": {}}
    schema = {"type": "object", "properties": {"owner": {"$ref": "#/definitions/Owner"}}}
    with pytest.raises(UnresolvedReference) as info:
        Resolver(doc, name="api.json").schema(schema, "/paths/~1pets/get/responses/200/schema")
    error = info.value
    assert isinstance(error, InputError)
    assert error.code == "unresolved-reference"
    assert error.pointer == "/paths/~1pets/get/responses/200/schema/properties/owner"
    assert "#/definitions/Owner" in error.message and "api.json" in error.message
    assert "'Owner' not found under /definitions" in error.message


def test_follow_chains_and_detects_cycles() -> None:
    doc = {
        "parameters": {"a": {"$ref": "#/parameters/b"}, "b": {"name": "b", "in": "query"}},
        "loop": {"x": {"$ref": "#/loop/y"}, "y": {"$ref": "#/loop/x"}},
    }
    resolver = Resolver(doc)
    value, pointer = resolver.follow({"$ref": "#/parameters/a"}, "/p")
    assert value == {"name": "b", "in": "query"} and pointer == "/parameters/b"
    with pytest.raises(UnresolvedReference, match="circular"):
        resolver.follow({"$ref": "#/loop/x"}, "/p")


def test_external_refs_are_kept_and_recorded() -> None:
    resolver = Resolver({})
    schema = {"properties": {"a": {"$ref": "common.json#/definitions/A"}}}
    assert resolver.schema(schema, "/s") is schema
    assert resolver.external == [ExternalRef("common.json#/definitions/A", "/s/properties/a/$ref")]


def test_deep_chains_resolve_each_target_once() -> None:
    # 100 definitions each pointing at the next: linear work, shared results.
    defs = {f"D{i}": {"properties": {"next": {"$ref": f"#/definitions/D{i + 1}"}}} for i in range(100)}
    defs["D100"] = {"type": "string"}
    resolver = Resolver({"definitions": defs})
    first = resolver.schema({"$ref": "#/definitions/D0"}, "/x")
    again = resolver.schema({"$ref": "#/definitions/D1"}, "/y")
    assert first["properties"]["next"] is again


def test_bare_names_in_swagger2_are_definitions() -> None:
    """go-openapi's simplepetstore writes ``$ref: "pet"``; swagger-parser reads #/definitions/pet."""
    import json
    from pathlib import Path

    from tether.definition import compile_api

    source = Path(__file__).parents[1] / "importers" / "data" / "go-openapi-simplepetstore.json"
    api = compile_api(json.loads(source.read_text()), name="petstore")
    schema = api.operation("addPet").request_body.schema
    assert schema["allOf"][0]["properties"]["name"] == {"type": "string"}
