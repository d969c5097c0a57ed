"""The response/argument schema check: the compiled strict check must never change a verdict.

Every value is checked with the fast path on and off (``SchemaChecker(fast=False)`` is the lenient
validator alone): the issues must be the same, whichever road a value takes.
"""

from __future__ import annotations

import pytest

from tether.runtime._schema import SchemaChecker

OBJECT = {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}}
RECURSIVE: dict = {"type": "object", "properties": {"id": {"type": "integer"}}}
RECURSIVE["properties"]["child"] = RECURSIVE  # what the compiler makes of a self-referencing schema

CASES = [
    pytest.param(OBJECT, {"id": 42, "name": "tether", "extra": [1, 2]}, [], id="conforms"),
    pytest.param(OBJECT, {"id": "42"}, ["/id"], id="wrong-type"),
    pytest.param(OBJECT, {"id": 1.0}, ["/id"], id="draft4-float-is-not-integer"),
    pytest.param({"type": "integer"}, 2**70, [], id="big-integer"),
    pytest.param({"type": "string"}, b"\x00binary", [], id="bytes-count-as-string"),
    pytest.param({"type": "string"}, ("a.png", b"png", "image/png"), [], id="file-tuple"),
    pytest.param({"type": "string", "x-nullable": True}, None, [], id="x-nullable"),
    pytest.param({"type": "string", "nullable": True}, None, [], id="nullable"),
    pytest.param({"type": "int"}, "not a number", [""], id="type-alias-checked"),
    pytest.param({"type": "int"}, 5, [], id="type-alias"),
    pytest.param({"type": "file"}, {"any": "thing"}, [], id="type-file"),
    pytest.param({"properties": {"a": {"type": "string", "required": True}}}, {}, [], id="draft3-required"),
    pytest.param({"minimum": "5"}, 1, [], id="malformed-keyword"),
    pytest.param({"type": "string", "format": "date-time"}, "not a date", [], id="formats-are-hints"),
    pytest.param({"type": "string", "pattern": "^[a-z]+$"}, "abc", [], id="pattern-matches"),
    pytest.param({"type": "string", "pattern": "^[a-z]+$"}, "ABC", [""], id="pattern-fails"),
    pytest.param({"type": "string", "pattern": "^\\d$"}, "\u0661", [], id="python-regex-semantics"),
    pytest.param({"type": "string", "pattern": "(?<=a"}, "x", [], id="regex-python-cannot-compile"),
    pytest.param({"$ref": "#/definitions/nowhere"}, 1, [], id="references-are-not-followed"),
    pytest.param({"type": "object", "required": ["id"]}, {}, [""], id="required-missing"),
    pytest.param(RECURSIVE, {"id": 1, "child": {"id": "x", "child": {}}}, ["/child/id"], id="recursive"),
    pytest.param({"type": "array", "items": OBJECT}, [{"id": 1}, {"id": True}], ["/1/id"], id="array"),
]


@pytest.mark.parametrize(("schema", "value", "pointers"), CASES)
def test_fast_and_lenient_checks_agree(schema, value, pointers) -> None:
    fast, lenient = SchemaChecker(), SchemaChecker(fast=False)
    assert [i.pointer for i in lenient.issues(schema, value)] == pointers
    assert fast.issues(schema, value) == lenient.issues(schema, value)
    assert fast.issues(schema, value) == lenient.issues(schema, value)  # from the cache, the same


@pytest.mark.parametrize("openapi31", [False, True], ids=["draft4", "draft2020"])
def test_openapi31_schemas_agree(openapi31) -> None:
    schema = {"type": ["integer", "null"], "exclusiveMinimum": 0}
    fast, lenient = SchemaChecker(openapi31=openapi31), SchemaChecker(openapi31=openapi31, fast=False)
    for value in (1, None, 0, -1, "x", 1.0):
        assert fast.issues(schema, value) == lenient.issues(schema, value), value
