"""What a definition's Request trigger and Response actions must satisfy before they can be saved.

Run by ``validate_flow`` (so on save and by ``tether flow validate``): a problem found here would
otherwise surface only when someone calls the flow, as an error the caller can do nothing about.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from tether.flows._request import (
    RequestRuleProblem,
    relative_path,
    response_status_problem,
    schema_problems,
    trigger_schema,
)

__all__ = ["request_trigger_problems", "response_problems"]


def request_trigger_problems(trigger_raw: Mapping[str, Any], pointer: str) -> Iterator[RequestRuleProblem]:
    """A schema that can't be compiled, a relativePath with an empty ``{}`` or a repeated name."""
    schema = trigger_schema(trigger_raw)
    if schema is not None:
        yield from schema_problems(schema, f"{pointer}/inputs/schema")
    names: list[str] = []
    for segment in relative_path(trigger_raw).split("/"):
        if segment.startswith("{") and segment.endswith("}"):
            name = segment[1:-1].strip()
            if not name or name in names:
                yield (
                    "flow/bad-relative-path",
                    f"the relativePath parameter '{segment}' is empty or repeated; name each "
                    "parameter once, as in 'customers/{customerId}/orders/{orderId}'",
                    f"{pointer}/inputs/relativePath",
                )
            names.append(name)
        elif "{" in segment or "}" in segment:
            yield (
                "flow/bad-relative-path",
                f"the relativePath segment '{segment}' mixes text and a parameter; a parameter is a "
                "whole segment such as '{customerId}'",
                f"{pointer}/inputs/relativePath",
            )


def response_problems(action_raw: Mapping[str, Any], pointer: str) -> Iterator[RequestRuleProblem]:
    """A literal statusCode Logic Apps refuses (3xx, out of range); expressions are checked at run time."""
    inputs = action_raw.get("inputs")
    status = inputs.get("statusCode") if isinstance(inputs, Mapping) else None
    if isinstance(status, str) and status.strip().isdigit():
        status = int(status)
    if isinstance(status, int) and not isinstance(status, bool):
        problem = response_status_problem(status)
        if problem:
            yield ("flow/bad-response-status", problem, f"{pointer}/inputs/statusCode")
