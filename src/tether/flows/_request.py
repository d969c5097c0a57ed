"""The Request trigger and the Response action, as Logic Apps defines them.

Pure rules, shared by definition checks (on save and ``tether flow validate``), the trigger's
endpoint and the Response action:

- ``inputs.relativePath`` (``customers/{customerId}``) routes calls made to
  ``.../paths/invoke/customers/42`` and fills ``relativePathParameters``;
- ``inputs.schema`` is a JSON Schema checked against the body only when the trigger turns on
  ``operationOptions: "EnableSchemaValidation"`` (Logic Apps otherwise only uses it for the designer's
  tokens); a schema that can't be compiled is a definition problem, found on save;
- the Response action drops the headers Logic Apps drops and can't answer with a 3xx status.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import unquote

__all__ = [
    "DROPPED_RESPONSE_HEADERS",
    "RequestRuleProblem",
    "match_relative_path",
    "relative_path",
    "response_headers",
    "response_status_problem",
    "schema_problems",
    "schema_validation_enabled",
    "schema_validator",
    "trigger_schema",
]

# Logic Apps removes these from a Response action's answer without a warning ("Add a Response action"
# in connectors-native-reqres.md): Allow, Content-* but Content-Disposition/-Encoding/-Type, Cookie,
# Expires, Last-Modified, Set-Cookie, Transfer-Encoding.
DROPPED_RESPONSE_HEADERS = frozenset(
    {"allow", "cookie", "expires", "last-modified", "set-cookie", "transfer-encoding"}
)
_KEPT_CONTENT_HEADERS = frozenset({"content-disposition", "content-encoding", "content-type"})
_PARAMETER = re.compile(r"^\{([^{}/]+)\}$")

_DRAFT_MARKERS = (
    ("draft-03", "Draft3Validator"),
    ("draft-04", "Draft4Validator"),
    ("draft-06", "Draft6Validator"),
    ("draft-07", "Draft7Validator"),
    ("2019-09", "Draft201909Validator"),
    ("2020-12", "Draft202012Validator"),
)
_UNDECLARED_DRAFTS = ("Draft4Validator", "Draft6Validator", "Draft7Validator")

RequestRuleProblem = tuple[str, str, str]
"""(rule id, message saying how to fix it, JSON pointer) — :class:`FlowIssue`'s fields."""


def _inputs(trigger_raw: Mapping[str, Any]) -> Mapping[str, Any]:
    inputs = trigger_raw.get("inputs")
    return inputs if isinstance(inputs, Mapping) else {}


def relative_path(trigger_raw: Mapping[str, Any]) -> str:
    """The trigger's ``relativePath`` without surrounding slashes ('' when it has none)."""
    value = _inputs(trigger_raw).get("relativePath")
    return value.strip("/") if isinstance(value, str) else ""


def match_relative_path(template: str, path: str) -> dict[str, str] | None:
    """The ``{name}`` values when ``path`` fits ``template`` segment by segment, else ``None``.

    ``match_relative_path("customers/{id}", "customers/42")`` is ``{"id": "42"}``; literal segments
    compare ignoring case, as Logic Apps routes do, and values are URL-decoded.
    """
    wanted = [part for part in template.strip("/").split("/") if part]
    given = [part for part in path.strip("/").split("/") if part]
    if len(wanted) != len(given):
        return None
    values: dict[str, str] = {}
    for pattern, segment in zip(wanted, given, strict=True):
        parameter = _PARAMETER.match(pattern)
        if parameter:
            values[parameter.group(1)] = unquote(segment)
        elif pattern.lower() != unquote(segment).lower():
            return None
    return values


def schema_validation_enabled(trigger_raw: Mapping[str, Any]) -> bool:
    """True when ``operationOptions`` (a comma-separated list) holds ``EnableSchemaValidation``."""
    options = trigger_raw.get("operationOptions")
    if not isinstance(options, str):
        return False
    return any(option.strip().lower() == "enableschemavalidation" for option in options.split(","))


def trigger_schema(trigger_raw: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The trigger's ``inputs.schema`` when it is a non-empty object."""
    schema = _inputs(trigger_raw).get("schema")
    return schema if isinstance(schema, Mapping) and schema else None


def schema_validator(schema: Mapping[str, Any]) -> Any:
    """The jsonschema validator class for ``schema``: the draft its ``$schema`` names (``http`` or
    ``https``, with or without ``#``, as Newtonsoft.Json.Schema accepts them), else the first of
    drafts 4, 6 and 7 whose metaschema accepts it (designer schemas are draft 4; hand-written ones
    often use draft 6/7 forms such as a numeric ``exclusiveMinimum``)."""
    import jsonschema  # ~0.1 s to import; only flows whose trigger declares a schema need it

    declared = str(schema.get("$schema", "")).lower()
    for marker, name in _DRAFT_MARKERS:
        if marker in declared:
            return getattr(jsonschema, name)
    for name in _UNDECLARED_DRAFTS:
        validator = getattr(jsonschema, name)
        if validator(validator.META_SCHEMA).is_valid(schema):
            return validator
    return jsonschema.Draft4Validator


def schema_problems(schema: Mapping[str, Any], pointer: str) -> Iterator[RequestRuleProblem]:
    """Why ``schema`` can't be used to check a body: not valid against its draft's metaschema, a
    ``pattern`` Python's ``re`` can't compile, or a ``$ref`` that points nowhere in the schema."""
    from jsonschema.exceptions import SchemaError

    validator_class = schema_validator(schema)
    try:
        validator_class.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(_escape(str(part)) for part in exc.absolute_path)
        yield (
            "flow/invalid-trigger-schema",
            f"the trigger's JSON schema is not valid ({exc.validator} at '/{where}'): "
            f"{_shorten(exc.message)}",
            f"{pointer}/{where}" if where else pointer,
        )
        return
    yield from _walk_schema(schema, schema, pointer)


def _shorten(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _walk_schema(node: Any, root: Mapping[str, Any], pointer: str) -> Iterator[RequestRuleProblem]:
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from _walk_schema(item, root, f"{pointer}/{index}")
        return
    if not isinstance(node, Mapping):
        return
    pattern = node.get("pattern")
    if isinstance(pattern, str):
        yield from _pattern_problem(pattern, f"{pointer}/pattern")
    properties = node.get("patternProperties")
    if isinstance(properties, Mapping):
        for key in properties:
            yield from _pattern_problem(str(key), f"{pointer}/patternProperties")
    reference = node.get("$ref")
    if isinstance(reference, str) and not _resolves(reference, root):
        yield (
            "flow/invalid-trigger-schema",
            f"the trigger's JSON schema refers to '{reference}', which is not in the schema; "
            "point '$ref' at a definition inside it such as '#/definitions/Name'",
            f"{pointer}/$ref",
        )
    for key, value in node.items():
        if key not in ("enum", "const", "default", "examples", "example"):
            yield from _walk_schema(value, root, f"{pointer}/{_escape(str(key))}")


def _pattern_problem(pattern: str, pointer: str) -> Iterator[RequestRuleProblem]:
    try:
        re.compile(pattern)
    except re.error as exc:
        yield (
            "flow/invalid-trigger-schema",
            f"the trigger's JSON schema has a pattern that can't be compiled: '{pattern}' ({exc})",
            pointer,
        )


def _resolves(reference: str, root: Mapping[str, Any]) -> bool:
    if not reference.startswith("#"):
        return False  # remote schemas would need the network at call time
    node: Any = root
    for part in reference[1:].split("/")[1:]:
        key = unquote(part).replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            return False
    return True


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def response_headers(headers: Mapping[str, Any]) -> dict[str, str]:
    """The Response action's headers as the caller gets them: without the ones Logic Apps drops."""
    kept: dict[str, str] = {}
    for name, value in headers.items():
        lower = str(name).lower()
        if lower in DROPPED_RESPONSE_HEADERS:
            continue
        if lower.startswith("content-") and lower not in _KEPT_CONTENT_HEADERS:
            continue
        kept[str(name)] = value if isinstance(value, str) else str(value)
    return kept


def response_status_problem(status: int) -> str | None:
    """Why ``status`` can't be a Response action's status code (Logic Apps refuses redirects)."""
    if 300 <= status <= 399:
        return (
            f"the Response action can't answer with the redirect status {status}: Logic Apps doesn't "
            "support 3xx responses; answer 200 with the address in the body, or 4xx/5xx"
        )
    if not 100 <= status <= 599:
        return f"the Response action's statusCode must be an HTTP status from 100 to 599, not {status}"
    return None
