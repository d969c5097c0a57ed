"""What the flow editor needs besides the services: reading the JSON text, and connection references.

A definition arrives as the text of a textarea. A JSON syntax error is reported like a validation
finding (line and column, so the maker finds it), and the references a definition makes to
``$connections`` are listed so the editor can offer one connection per reference — the binding the
services store as the flow's ``connections``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from tether.errors import TetherError, ValidationFailed
from tether.flows import load_flow, validate_flow

__all__ = ["Finding", "connection_references", "findings_of", "offline_findings", "parse_definition"]

# @parameters('$connections')['name']['connectionId'] — how Logic Apps definitions name a connection.
_REFERENCE = re.compile(r"parameters\(\s*'\$connections'\s*\)\s*\[\s*'([^']+)'\s*\]")


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem shown beside the editor: a stable code, the message, where (JSON pointer or line)."""

    code: str
    message: str
    where: str


def parse_definition(text: str) -> tuple[Any, list[Finding]]:
    """The JSON value of ``text``, or ``None`` with one finding saying where the syntax breaks."""
    if not text.strip():
        return None, [
            Finding("flow/empty", 'The definition is empty: start from {"triggers": {}, "actions": {}}.', "")
        ]
    try:
        return json.loads(text), []
    except json.JSONDecodeError as exc:
        return None, [Finding("flow/json-syntax", exc.msg, f"line {exc.lineno}, column {exc.colno}")]


def findings_of(error: TetherError) -> list[Finding]:
    """The findings a refused save carries (every issue of a ValidationFailed, else its message)."""
    if isinstance(error, ValidationFailed):
        issues = error.detail.get("issues") if isinstance(error.detail, dict) else None
        if isinstance(issues, list) and issues:
            return [
                Finding(
                    str(issue.get("code", error.code)),
                    str(issue.get("message", "")),
                    str(issue.get("pointer", issue.get("field", ""))),
                )
                for issue in issues
                if isinstance(issue, dict)
            ]
    return [Finding(error.code, error.message, "")]


def offline_findings(definition: Any) -> list[Finding]:
    """Every problem found without the database (the "Check" button): structure and expressions."""
    try:
        flow = load_flow(definition)
    except TetherError as exc:
        return findings_of(exc)
    return [Finding(i.code, i.message, i.pointer) for i in validate_flow(flow)]


def connection_references(definition: Any, bound: Mapping[str, str] | None = None) -> list[str]:
    """The ``$connections`` names the definition uses (and those already bound), sorted."""
    names = set(bound or {})
    if isinstance(definition, dict):
        try:
            raw = load_flow(definition).raw
        except TetherError:
            raw = definition
        parameters = raw.get("parameters")
        declared = parameters.get("$connections") if isinstance(parameters, dict) else None
        default = declared.get("defaultValue") if isinstance(declared, dict) else None
        if isinstance(default, dict):
            names.update(default)
        names.update(_referenced(raw))
    return sorted(names)


def _referenced(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield from _REFERENCE.findall(value)
    elif isinstance(value, dict):
        connection = value.get("connection")
        if isinstance(connection, dict) and isinstance(connection.get("referenceName"), str):
            yield connection["referenceName"]
        if isinstance(value.get("connectionName"), str):  # Power Automate's OpenApiConnection host
            yield value["connectionName"]
        for item in value.values():
            yield from _referenced(item)
    elif isinstance(value, list):
        for item in value:
            yield from _referenced(item)
