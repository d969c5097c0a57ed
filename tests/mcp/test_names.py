"""Tool names: safe characters, at most 64, unique, and the same whatever else is listed."""

from __future__ import annotations

import re

import pytest

from tether.mcp._names import MAX_TOOL_NAME, assign_names, flow_tool, operation_tool

SAFE = re.compile(r"[A-Za-z0-9_-]{1,64}")


@pytest.mark.parametrize(
    ("connection", "operation", "expected"),
    [
        pytest.param("Sentiment", "Sentiment", "sentiment__Sentiment", id="plain"),
        pytest.param("My CRM (prod)", "Get.Contact/v2", "my-crm-prod__Get-Contact-v2", id="unsafe"),
        pytest.param("Ünïcode ☃", "op", "n-code__op", id="non-ascii"),
        pytest.param("!!!", "op", "x__op", id="nothing-left"),
    ],
)
def test_readable_names(connection: str, operation: str, expected: str) -> None:
    assert operation_tool(connection, operation) == expected


def test_collisions_and_long_names_get_a_hash_that_depends_only_on_the_target() -> None:
    long_operation = "Get" + "VeryLong" * 12
    wanted = {
        "op:c1:List": operation_tool("crm", "List"),
        "op:c2:List": operation_tool("CRM", "List"),  # the same name but for case
        "op:c3:" + long_operation: operation_tool("crm", long_operation),
        "flow:f1": flow_tool("report"),
    }
    names = assign_names(wanted)
    assert all(SAFE.fullmatch(n) for n in names.values()), names
    assert len({n.lower() for n in names.values()}) == len(names)
    assert names["flow:f1"] == "flow__report"
    assert names["op:c1:List"].startswith("crm__List-") and names["op:c2:List"].startswith("crm__List-")
    assert len(names["op:c3:" + long_operation]) == MAX_TOOL_NAME
    # Stable: listing the same targets in another order, or with others beside them, changes nothing.
    again = assign_names(dict(reversed(list(wanted.items()))) | {"flow:f2": flow_tool("other")})
    assert {k: again[k] for k in wanted} == names
