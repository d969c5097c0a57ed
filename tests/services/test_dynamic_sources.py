"""Dynamic extensions compiled into sources, and the brief per-connection cache of their answers (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tether.definition import compile_api, load_package
from tether.errors import InputError, ValidationFailed
from tether.services import DynamicCache, DynamicValue
from tether.services._dynamic_sources import MISSING, dynamic_value_source, locate, pick
from tether.services._operations import operation_info

CORPUS = Path(__file__).parents[2] / ".." / "shared" / "corpus" / "powerplatform" / "certified-connectors"


def _input(connector: str, operation: str) -> dict:
    api = compile_api(load_package(CORPUS / connector).definition.data)
    return operation_info(api, api.operation(operation)).input_schema


def test_egnyte_file_picker_tree_opens_and_browses() -> None:
    schema = _input("Egnyte", "fileLocked")
    name = next(n for n, p in schema["properties"].items() if "x-ms-dynamic-tree" in p)
    source = dynamic_value_source(schema["properties"][name], name)  # its dynamic-values has no operation
    assert (source.kind, source.operation_id) == ("tree", "listRootFolder")
    answer = [
        {"name": "Shared", "path": "/Shared", "is_folder": True},
        {"name": "a.txt", "path": "/a.txt", "is_folder": False},
    ]
    assert source.values(answer) == [
        DynamicValue("/Shared", "Shared", is_parent=True, full_title="/Shared"),
        DynamicValue("/a.txt", "a.txt", is_parent=False, full_title="/a.txt"),
    ]
    assert source.browse is not None and source.browse.operation_id == "listFolder"
    assert source.browse.call_arguments({}, answer[0]) == {"path": "/Shared"}
    assert source.browse.call_arguments({}, "/Shared") == {"path": "/Shared"}  # or just the node's value
    with pytest.raises(ValidationFailed, match="the selected item"):
        source.browse.call_arguments({})


def test_a_body_input_refers_to_its_sibling() -> None:
    schema = _input("ProcessStreet", "CreateTaskStateChangedTrigger")
    task = locate(schema, "body/taskId")
    assert task is not None
    values_source = dynamic_value_source({"x-ms-dynamic-values": task["x-ms-dynamic-values"]}, "body/taskId")
    given = {"body": {"workflowId": "w1"}}
    assert values_source.call_arguments(given, scope="body") == {"workflowId": "w1"}
    assert values_source.call_arguments({"body/workflowId": "w1"}, scope="body") == {"workflowId": "w1"}
    with pytest.raises(ValidationFailed, match="needs the value of 'workflowId' first"):
        values_source.call_arguments({"workflowId_": 1}, scope="body")
    list_source = dynamic_value_source(task, "body/taskId")  # x-ms-dynamic-list wins: it is the successor
    assert (list_source.kind, list_source.call_arguments(given)) == ("list", {"workflowId": "w1"})


def test_paths_and_shapes() -> None:
    assert pick({"a": {"b": [1, {"c": 2}]}}, "a/b/1/c") == 2
    assert pick({"a": {"b": 3}}, "a.b") == 3 and pick({"a.b": 4}, "a.b") == 4
    assert pick({"a": 1}, "b") is MISSING
    source = dynamic_value_source(
        {"x-ms-dynamic-values": {"operationId": "L", "value-path": "id", "value-title": "name"}}, "p"
    )
    assert source.values({"value": [{"id": 1, "name": "one"}]}) == [DynamicValue(1, "one")]  # OData lists
    with pytest.raises(ValueError, match="no item of the list has 'id'"):
        source.values([{"key": 1}])
    with pytest.raises(ValueError, match="not the list"):
        source.values({"id": 1})
    with pytest.raises(InputError, match="names no operationId"):
        dynamic_value_source({"x-ms-dynamic-list": {"itemsPath": "x"}}, "p")


def test_the_cache_forgets_after_its_ttl_and_beyond_its_size() -> None:
    now = [0.0]
    cache = DynamicCache(ttl=10, max_size=2, clock=lambda: now[0])
    first = cache.key("c1", 1, "List", {"b": 1, "a": 2})
    assert first == cache.key("c1", 1, "List", {"a": 2, "b": 1})
    cache.put(first, ["x"])
    assert cache.get(first) == (True, ["x"])
    now[0] = 10.0
    assert cache.get(first) == (False, None)
    for index in range(3):
        cache.put(cache.key("c1", 1, "List", {"i": index}), index)
    assert len(cache) == 2 and cache.get(cache.key("c1", 1, "List", {"i": 0})) == (False, None)
    cache.put(cache.key("c2", 1, "List", {}), "other")
    cache.forget("c1")
    assert len(cache) == 1
