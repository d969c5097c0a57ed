"""What Swagger 2.0 and OpenAPI 3.x compile the same way: paths, operations, ``x-ms-*``.

The two specifications differ in parameters, bodies, responses, servers and security
(see ``_swagger2.py`` and ``_openapi3.py``, each a ``Dialect``), but walk paths and
operations alike and carry the same Microsoft extensions. That common walk lives here so
both compilers tolerate the same real-world sloppiness in the same way: anything that is
not the expected shape (a path item that is a string, parameters that are not a list,
responses without descriptions) is skipped or defaulted, never a Python exception. The
linter, which reads ``Api.raw``, is the one that reports it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from tether.definition._document import escape_pointer
from tether.definition._ir import (
    NO_DEFAULT,
    Operation,
    Parameter,
    RequestBody,
    Response,
    SecurityRequirement,
)
from tether.definition._refs import Resolver

__all__ = [
    "HTTP_METHODS",
    "Dialect",
    "RawOperation",
    "as_bool",
    "as_dict",
    "as_list",
    "as_str",
    "compile_operations",
    "extensions_of",
    "generate_operation_id",
    "parameter_common",
    "scope_descriptions",
    "security_requirements",
    "version_text",
    "visibility_of",
]

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_VISIBILITIES = {"important", "advanced", "internal"}
_TRIGGERS = {"single", "batch"}
# AutoRest's default when x-ms-pageable names no property.
DEFAULT_NEXT_LINK_NAME = "nextLink"
_NON_WORD = re.compile(r"[^A-Za-z0-9]+")


def as_str(value: Any) -> str | None:
    """``value`` when it is a string, else None (numbers in titles are the author's mistake, not ours)."""
    return value if isinstance(value, str) else None


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` when it is a dict, else an empty one."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """``value`` when it is a list, else an empty one."""
    return value if isinstance(value, list) else []


def as_bool(value: Any) -> bool:
    """True for ``true`` and the string ``"true"`` (any case), which connector files also use."""
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return value is True


def version_text(value: Any) -> str:
    """``info.version`` as text: YAML reads an unquoted ``1.0`` as a float, the author meant text."""
    return str(value) if isinstance(value, str | int | float) and not isinstance(value, bool) else ""


def scope_descriptions(value: Any) -> dict[str, str]:
    """OAuth ``scopes`` (name ⇒ description), tolerating a missing map or non-text descriptions."""
    return {str(k): v if isinstance(v, str) else "" for k, v in as_dict(value).items()}


def extensions_of(node: dict[str, Any]) -> dict[str, Any]:
    """Every ``x-*`` key of ``node``, so nothing an author wrote is lost."""
    return {k: v for k, v in node.items() if type(k) is str and k[:2] == "x-"}


def visibility_of(node: dict[str, Any]) -> str | None:
    """``x-ms-visibility`` lower-cased when it is a known value (the corpus has ``Advanced``)."""
    value = node.get("x-ms-visibility")
    if isinstance(value, str) and value.lower() in _VISIBILITIES:
        return value.lower()
    return None


def security_requirements(value: Any) -> list[SecurityRequirement] | None:
    """Parse a ``security`` list; None when absent or not a list (the operation inherits)."""
    if not isinstance(value, list):
        return None
    out: list[SecurityRequirement] = []
    for item in value:
        if isinstance(item, dict):
            out.append({str(k): [s for s in as_list(v) if isinstance(s, str)] for k, v in item.items()})
    return out


def generate_operation_id(method: str, path: str) -> str:
    """A readable id from method and path: ``GET /pets/{petId}`` ⇒ ``get_pets_petId``."""
    slug = _NON_WORD.sub("_", path).strip("_")
    return f"{method}_{slug}" if slug else method


@dataclass(slots=True)
class RawOperation:
    """One operation as found: its dict, its path item and the merged raw parameters."""

    method: str
    path: str
    node: dict[str, Any]
    pointer: str
    path_item: dict[str, Any]
    path_pointer: str
    parameters: list[tuple[dict[str, Any], str]]


class Dialect(Protocol):
    """What differs between the specifications, compiled from raw (reference-followed) dicts."""

    resolver: Resolver

    def parameter(self, raw: dict[str, Any], pointer: str) -> Parameter | None: ...

    def request_body(self, op: RawOperation, parameters: list[Parameter]) -> RequestBody | None: ...

    def response(self, status: str, raw: dict[str, Any], pointer: str, op: RawOperation) -> Response: ...


def compile_operations(data: dict[str, Any], dialect: Dialect) -> list[Operation]:
    """Compile every operation under ``paths``, in document order, with stable ids."""
    raws = list(_iter_operations(data, dialect.resolver))
    taken = {as_str(raw.node.get("operationId")) for raw in raws} - {None, ""}
    operations = []
    for raw in raws:
        operation_id = as_str(raw.node.get("operationId"))
        generated = not operation_id
        if not operation_id:
            operation_id = _unique(generate_operation_id(raw.method, raw.path), taken)
            taken.add(operation_id)
        operations.append(_operation(raw, operation_id, generated, dialect))
    return operations


def _unique(candidate: str, taken: set[str | None]) -> str:
    if candidate not in taken:
        return candidate
    n = 2
    while f"{candidate}_{n}" in taken:
        n += 1
    return f"{candidate}_{n}"


def _iter_operations(data: dict[str, Any], resolver: Resolver) -> Iterator[RawOperation]:
    for path, item in as_dict(data.get("paths")).items():
        if not isinstance(path, str):
            continue
        path_pointer = "/paths/" + escape_pointer(path)
        item, item_pointer = resolver.follow(item, path_pointer)
        if not isinstance(item, dict):
            continue
        shared = _raw_parameters(item.get("parameters"), f"{item_pointer}/parameters", resolver)
        for method in HTTP_METHODS:
            node = item.get(method)
            if not isinstance(node, dict):
                continue
            pointer = f"{item_pointer}/{method}"
            own = _raw_parameters(node.get("parameters"), f"{pointer}/parameters", resolver)
            yield RawOperation(method, path, node, pointer, item, item_pointer, _merge(shared, own))


def _raw_parameters(value: Any, pointer: str, resolver: Resolver) -> list[tuple[dict[str, Any], str]]:
    out = []
    for index, item in enumerate(as_list(value)):
        param, param_pointer = resolver.follow(item, f"{pointer}/{index}")
        # Without a name and a location a parameter cannot be sent; the linter reports it.
        if (
            isinstance(param, dict)
            and isinstance(param.get("name"), str)
            and isinstance(param.get("in"), str)
        ):
            out.append((param, param_pointer))
    return out


def _merge(
    shared: list[tuple[dict[str, Any], str]], own: list[tuple[dict[str, Any], str]]
) -> list[tuple[dict[str, Any], str]]:
    """Path-item parameters, each replaced in place by an operation one with the same name and ``in``."""
    if not shared:
        return own
    merged = {(p["name"], p["in"]): (p, ptr) for p, ptr in shared}
    for p, ptr in own:
        merged[(p["name"], p["in"])] = (p, ptr)
    return list(merged.values())


def _operation(raw: RawOperation, operation_id: str, generated: bool, dialect: Dialect) -> Operation:
    node = raw.node
    parameters = [p for p in (dialect.parameter(d, ptr) for d, ptr in raw.parameters) if p is not None]
    responses: dict[str, Response] = {}
    responses_pointer = f"{raw.pointer}/responses"
    for status, value in as_dict(node.get("responses")).items():
        key = str(status)
        if key.startswith("x-"):
            continue
        response, pointer = dialect.resolver.follow(value, f"{responses_pointer}/{escape_pointer(key)}")
        if isinstance(response, dict):
            responses[key] = dialect.response(key, response, pointer, raw)
    trigger = as_str(node.get("x-ms-trigger"))
    trigger = trigger.lower() if trigger and trigger.lower() in _TRIGGERS else None
    return Operation(
        operation_id=operation_id,
        method=raw.method,
        path=raw.path,
        generated_id=generated,
        summary=as_str(node.get("summary")),
        description=as_str(node.get("description")),
        tags=[t for t in as_list(node.get("tags")) if isinstance(t, str)],
        deprecated=as_bool(node.get("deprecated")),
        visibility=visibility_of(node),
        trigger=trigger,  # type: ignore[arg-type]  # narrowed to the Literal above
        trigger_hint=as_str(node.get("x-ms-trigger-hint")),
        annotations=_dict_or_none(node.get("x-ms-api-annotation")),
        next_link_name=_next_link_name(node.get("x-ms-pageable")),
        parameters=parameters,
        request_body=dialect.request_body(raw, parameters),
        responses=responses,
        security=security_requirements(node.get("security")),
        notification_content=_notification_content(raw, dialect.resolver),
        pointer=raw.pointer,
        extensions=extensions_of(node),
    )


def _dict_or_none(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def _next_link_name(pageable: Any) -> str | None:
    if not isinstance(pageable, dict):
        return None
    if "nextLinkName" not in pageable:
        return DEFAULT_NEXT_LINK_NAME
    return as_str(pageable["nextLinkName"])  # an explicit null means "one page only"


def _notification_content(raw: RawOperation, resolver: Resolver) -> dict[str, Any] | None:
    content = raw.path_item.get("x-ms-notification-content")
    if not isinstance(content, dict) or not isinstance(content.get("schema"), dict):
        return None
    schema = resolver.schema(content["schema"], f"{raw.path_pointer}/x-ms-notification-content/schema")
    return schema if isinstance(schema, dict) else None


def parameter_common(raw: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The ``Parameter`` fields read alike in both specifications (extensions may sit on either object)."""
    return {
        "description": as_str(raw.get("description")),
        "summary": as_str(raw.get("x-ms-summary")) or as_str(schema.get("x-ms-summary")),
        "visibility": visibility_of(raw) or visibility_of(schema),
        "url_encoding": "double" if raw.get("x-ms-url-encoding") == "double" else "single",
        "dynamic_values": _either_dict(raw, schema, "x-ms-dynamic-values"),
        "dynamic_list": _either_dict(raw, schema, "x-ms-dynamic-list"),
        "dynamic_schema": _either_dict(raw, schema, "x-ms-dynamic-schema")
        or _either_dict(raw, schema, "x-ms-dynamic-properties"),
        "notification_url": as_bool(raw.get("x-ms-notification-url"))
        or as_bool(schema.get("x-ms-notification-url")),
        "test_value": raw.get("x-ms-test-value", schema.get("x-ms-test-value", NO_DEFAULT)),
        "extensions": extensions_of(raw),
    }


def _either_dict(raw: dict[str, Any], schema: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = raw.get(key, schema.get(key))
    return value if isinstance(value, dict) else None
