"""Postman requests that share a method and path, merged into one operation as postman2openapi does.

Collections often hold several saved requests for one endpoint (one per example body, or
per filter). Swagger has one operation per method and path, so the later requests are
folded into the first: parameters are united (one that only some requests send becomes
optional), object bodies become one schema accepting each request's body (properties
united, only what every body requires stays required), and responses and tags are united.
"""

from __future__ import annotations

from typing import Any, TypeGuard

__all__ = ["can_merge", "merge_operation"]


def can_merge(into: dict[str, Any], other: dict[str, Any]) -> bool:
    """False when one sends a body and the other form fields: Swagger 2.0 cannot hold both."""
    kinds = {_body_kind(into), _body_kind(other)} - {None}
    return len(kinds) <= 1


def _body_kind(operation: dict[str, Any]) -> str | None:
    places = {p.get("in") for p in operation.get("parameters", [])} & {"body", "formData"}
    return places.pop() if len(places) == 1 else None


def merge_operation(into: dict[str, Any], other: dict[str, Any]) -> list[str]:
    """Fold ``other`` into ``into`` in place; returns what the merge had to approximate."""
    notes: list[str] = []
    mine = {_key(p): p for p in into.get("parameters", [])}
    theirs = {_key(p): p for p in other.get("parameters", [])}
    for key, parameter in mine.items():
        if key not in theirs and parameter.get("in") != "path":
            parameter["required"] = False
    for key, parameter in theirs.items():
        if key not in mine:
            into.setdefault("parameters", []).append({**parameter, "required": parameter.get("in") == "path"})
        elif parameter.get("in") == "body":
            notes += _merge_body(mine[key], parameter)
    for code, response in other.get("responses", {}).items():
        into.setdefault("responses", {}).setdefault(code, response)
    for field in ("tags", "consumes", "produces"):  # tags: the folders of every merged request
        for value in other.get(field, []):
            if value not in into.setdefault(field, []):
                into[field].append(value)
    return notes


def _key(parameter: dict[str, Any]) -> tuple[str, str]:
    location = str(parameter.get("in"))
    name = str(parameter.get("name"))
    return location, name.lower() if location == "header" else name


def _merge_body(body: dict[str, Any], other: dict[str, Any]) -> list[str]:
    mine, theirs = body.get("schema"), other.get("schema")
    if mine == theirs:
        return []
    if _is_object(mine) and _is_object(theirs):
        properties = mine.setdefault("properties", {})
        for name, schema in theirs.get("properties", {}).items():
            properties.setdefault(name, schema)
        required = [n for n in mine.get("required", []) if n in theirs.get("required", [])]
        if required:
            mine["required"] = required
        else:
            mine.pop("required", None)
        return []
    return ["the bodies differ in shape; the first request's body schema is kept"]


def _is_object(schema: Any) -> TypeGuard[dict[str, Any]]:
    return isinstance(schema, dict) and schema.get("type") in ("object", None) and "properties" in schema
