"""A read-only index over a raw OpenAPI document, shaped for lint rules.

Rules work on the raw JSON (not the compiled IR) so they can report on documents the
compiler would reject, with pointers into the file as written. The index is built once
per lint run: the operations (with their path-level and operation-level parameters merged
and local ``$ref``s followed), the operationIds, and pointer resolution. Every accessor
tolerates any shape: a ``paths`` that is a list, a parameter that is a string, and so on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from tether.definition._document import escape_pointer

__all__ = [
    "HTTP_METHODS",
    "Operation",
    "Parameter",
    "SpecIndex",
    "iter_refs",
    "resolve_pointer",
    "unescape_token",
]

_REF_IN_TEXT = re.compile(r'"\$ref"\s*:\s*"((?:[^"\\]|\\.)*)"')
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_MISSING = object()


def unescape_token(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def resolve_pointer(data: Any, pointer: str) -> Any:
    """The value at ``pointer`` (with or without a leading ``#``), or ``_MISSING``."""
    if pointer.startswith("#"):
        pointer = pointer[1:]
    if not pointer:
        return data
    if not pointer.startswith("/"):
        return _MISSING
    node = data
    for raw in pointer[1:].split("/"):
        token = unescape_token(raw)
        if isinstance(node, dict):
            if token not in node:
                return _MISSING
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return _MISSING
    return node


@dataclass
class Parameter:
    """A parameter as an operation sees it: ``pointer`` is where it is written (a ``$ref``
    target when it was referenced), ``data`` its resolved object."""

    pointer: str
    data: dict[str, Any]

    @property
    def name(self) -> str | None:
        value = self.data.get("name")
        return value if isinstance(value, str) else None

    @property
    def location(self) -> str | None:
        value = self.data.get("in")
        return value if isinstance(value, str) else None


@dataclass
class Operation:
    """One operation: ``path`` template, lower-case ``method``, and its pointer."""

    path: str
    method: str
    pointer: str
    data: dict[str, Any]
    parameters: list[Parameter] = field(default_factory=list)

    @property
    def operation_id(self) -> str | None:
        value = self.data.get("operationId")
        return value if isinstance(value, str) and value else None

    @property
    def label(self) -> str:
        """How messages name the operation: its operationId, else ``METHOD /path``."""
        return self.operation_id or f"{self.method.upper()} {self.path}"


class SpecIndex:
    """Operations, operationIds and references of one raw definition."""

    def __init__(self, data: Any, *, json_text: str | None = None) -> None:
        self.data: dict[str, Any] = data if isinstance(data, dict) else {}
        self._json_text = json_text

    @cached_property
    def ref_values(self) -> set[str]:
        """Every distinct string ``$ref`` value in the document.

        From JSON text a regular expression finds them ~5x faster than walking the parsed
        data (which matters on 1 MB definitions); rules walk only when one is wrong and
        they need its pointer.
        """
        if self._json_text is not None:
            found = set()
            for raw in _REF_IN_TEXT.findall(self._json_text):
                try:
                    found.add(json.loads(f'"{raw}"'))
                except ValueError:
                    found.add(raw)
            return found
        return {value for _, value in iter_refs(self.data) if isinstance(value, str)}

    @cached_property
    def version(self) -> str | None:
        """``"2.0"``, ``"3.0"``, ``"3.1"`` or None when the document names no known version."""
        swagger = self.data.get("swagger")
        if swagger is not None:
            return "2.0" if str(swagger).strip() == "2.0" else None
        openapi = self.data.get("openapi")
        if isinstance(openapi, str):
            for version in ("3.0", "3.1"):
                if openapi.startswith(version + ".") or openapi == version:
                    return version
        return None

    def resolve(self, ref: Any) -> tuple[str, Any] | None:
        """Follow a local ``$ref`` string; returns (pointer, value) or None if it dangles."""
        if not isinstance(ref, str) or not ref.startswith("#"):
            return None
        value = resolve_pointer(self.data, ref)
        return None if value is _MISSING else (ref[1:], value)

    def follow(self, pointer: str, value: Any, *, depth: int = 8) -> tuple[str, Any]:
        """Follow ``$ref`` chains from ``value`` (at ``pointer``); stops at dangling refs."""
        while depth and isinstance(value, dict) and "$ref" in value:
            target = self.resolve(value["$ref"])
            if target is None:
                break
            pointer, value = target
            depth -= 1
        return pointer, value

    @cached_property
    def operations(self) -> list[Operation]:
        found: list[Operation] = []
        paths = self.data.get("paths")
        if not isinstance(paths, dict):
            return found
        for path, item_raw in paths.items():
            if not isinstance(path, str) or not path.startswith("/"):
                continue
            item_pointer = f"/paths/{escape_pointer(path)}"
            _, item = self.follow(item_pointer, item_raw)
            if not isinstance(item, dict):
                continue
            shared = list(self._parameters(f"{item_pointer}/parameters", item.get("parameters")))
            for method in HTTP_METHODS:
                op = item.get(method)
                if not isinstance(op, dict):
                    continue
                pointer = f"{item_pointer}/{method}"
                own = list(self._parameters(f"{pointer}/parameters", op.get("parameters")))
                overridden = {(p.name, p.location) for p in own}
                merged = [p for p in shared if (p.name, p.location) not in overridden] + own
                found.append(Operation(path, method, pointer, op, merged))
        return found

    @cached_property
    def operation_ids(self) -> set[str]:
        return {op.operation_id for op in self.operations if op.operation_id}

    def _parameters(self, pointer: str, raw: Any) -> Iterator[Parameter]:
        if not isinstance(raw, list):
            return
        for index, item in enumerate(raw):
            where, value = self.follow(f"{pointer}/{index}", item)
            if isinstance(value, dict) and "$ref" not in value:
                yield Parameter(where, value)


def iter_schemas(index: SpecIndex) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every top-level schema the document declares or uses inline, with its pointer.

    Covers ``definitions`` / ``components.schemas``, body parameters and responses; nested
    schemas are reached by the callers' own recursion.
    """
    data = index.data
    containers = [("/definitions", data.get("definitions"))]
    components = data.get("components")
    if isinstance(components, dict):
        containers.append(("/components/schemas", components.get("schemas")))
    for base, container in containers:
        if isinstance(container, dict):
            for name, schema in container.items():
                if isinstance(schema, dict):
                    yield f"{base}/{escape_pointer(name)}", schema
    for op in index.operations:
        for param in op.parameters:
            schema = param.data.get("schema")
            if isinstance(schema, dict):
                yield f"{param.pointer}/schema", schema
        responses = op.data.get("responses")
        if isinstance(responses, dict):
            for code, response in responses.items():
                if isinstance(response, dict) and isinstance(response.get("schema"), dict):
                    yield f"{op.pointer}/responses/{escape_pointer(code)}/schema", response["schema"]


MISSING = _MISSING
_LITERAL_KEYS = frozenset({"example", "examples", "x-ms-test-value", "default", "enum"})


def iter_refs(node: Any, pointer: str = "") -> Iterator[tuple[str, Any]]:
    """Every ``$ref`` value with its pointer, iteratively (deep schemas exceed recursion)."""
    stack: list[tuple[Any, str]] = [(node, pointer)]
    while stack:
        value, where = stack.pop()
        if isinstance(value, dict):
            for key, child in value.items():
                if key == "$ref" and not isinstance(child, (dict, list)):
                    yield f"{where}/$ref", child
                elif key in _LITERAL_KEYS:
                    continue  # literal data: a "$ref" key there is a value, not a reference
                elif isinstance(child, (dict, list)):
                    stack.append((child, f"{where}/{escape_pointer(key)}"))
        elif isinstance(value, list):
            for index, child in enumerate(value):
                if isinstance(child, (dict, list)):
                    stack.append((child, f"{where}/{index}"))
