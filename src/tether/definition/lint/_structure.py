"""Structural validity: the document against the official OpenAPI JSON Schema.

The schemas are the ones openapi-spec-validator ships (Swagger 2.0, OpenAPI 3.0 and 3.1),
so Tether agrees with the reference validator on what a valid document is; they run on
jsonschema-rs (Rust), which is one to two orders of magnitude faster than the pure-Python
``jsonschema`` that openapi-spec-validator uses. Schema errors are noisy for OpenAPI's
``oneOf`` unions (a bad query parameter "fails" as a body parameter too), so each ``oneOf``
/ ``anyOf`` failure is collapsed to the branch that got furthest, and its errors are
reported instead of the union's.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs

from tether.definition._document import escape_pointer
from tether.definition.lint._context import LintContext
from tether.definition.lint._registry import check, define_rule
from tether.definition.lint._spec import HTTP_METHODS, unescape_token

__all__ = ["describe", "schema_errors"]

NOT_AN_OBJECT = define_rule(
    "structure/not-an-object", "error", "The API definition must be a JSON/YAML object."
)
UNKNOWN_VERSION = define_rule(
    "structure/unknown-version",
    "error",
    'The definition must declare `swagger: "2.0"` or `openapi: 3.0.x / 3.1.x`.',
)
INVALID_SCHEMA = define_rule(
    "structure/invalid-schema", "error", "The definition breaks the official OpenAPI JSON Schema."
)
EMPTY_RESPONSES = define_rule(
    "structure/empty-responses",
    "warning",
    "An operation declares no response; the spec requires one (Power Platform tolerates it).",
    certification_severity="error",
)

_SCHEMA_FILES = {"2.0": "v2.0", "3.0": "v3.0", "3.1": "v3.1"}
# Keys whose enum/const mismatch means "this oneOf branch is the wrong variant", not a real error.
_DISCRIMINATORS = frozenset({"in", "type", "flow"})
_MAX_SCHEMA_FINDINGS = 200


def _spec_validator_folder() -> Path:
    """Where openapi-spec-validator's schema files are, found without importing the package: its
    ``__init__`` loads pydantic-settings and jsonschema-path (~0.5 s of CPU) that the linter never uses."""
    spec = importlib.util.find_spec("openapi_spec_validator")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("openapi-spec-validator is not installed; reinstall Tether")
    return Path(next(iter(spec.submodule_search_locations)))


@cache
def _validator(version: str) -> Any:
    """The compiled validator for ``version``; compiled once per process."""
    folder = _spec_validator_folder() / "resources" / "schemas" / _SCHEMA_FILES[version]
    schema = json.loads((folder / "schema.json").read_text(encoding="utf-8"))
    # Formats (uri, email) are annotations in draft 4; the corpus uses templated URLs in them.
    return jsonschema_rs.validator_for(schema, validate_formats=False)


def schema_errors(data: Any, version: str) -> list[tuple[str, str, str]]:
    """(pointer, error kind, message) for every leaf schema error in ``data``."""
    errors = _validator(version).iter_errors(data)
    out: list[tuple[str, str, str]] = []
    for error in errors:
        for leaf in _leaves(error):
            out.append((_pointer(leaf.instance_path), leaf.kind.name, _message(leaf)))
    return out


@check()
def check_structure(ctx: LintContext) -> None:
    data = ctx.definition.data
    if not isinstance(data, dict):
        ctx.report(
            NOT_AN_OBJECT,
            "",
            f"the definition is a {_json_type(data)}; it must be an object with "
            "`swagger` (or `openapi`), `info` and `paths`",
        )
        return
    version = ctx.spec.version
    if version is None:
        declared = data.get("swagger", data.get("openapi"))
        what = f"declares version {declared!r}" if declared is not None else "declares no version"
        ctx.report(
            UNKNOWN_VERSION,
            "",
            f'the definition {what}; add `"swagger": "2.0"` '
            '(Power Platform\'s format) or `"openapi": "3.0.3"`/`"3.1.0"`',
        )
        return
    seen: set[tuple[str, str]] = set()
    for pointer, kind, message in schema_errors(data, version):
        if pointer.endswith("/responses") and kind in ("minProperties", "not"):
            ctx.report(
                EMPTY_RESPONSES,
                pointer,
                f"{_describe(pointer.rsplit('/', 1)[0])} declares no response; "
                'add at least one, e.g. `"200": {"description": "OK"}`',
            )
            continue
        if (pointer, message) in seen:
            continue
        seen.add((pointer, message))
        if len(seen) > _MAX_SCHEMA_FINDINGS:
            ctx.report(
                INVALID_SCHEMA,
                "",
                f"more than {_MAX_SCHEMA_FINDINGS} schema errors; fix the ones above and lint again",
            )
            return
        ctx.report(INVALID_SCHEMA, pointer, message)


def _leaves(error: Any) -> Iterator[Any]:
    """The errors worth showing for ``error``: itself, or its best oneOf/anyOf branch's."""
    kind = error.kind
    if kind.name in ("oneOf", "anyOf"):
        branches = [list(b) for b in getattr(kind, "context", None) or []]
        base = list(error.instance_path)
        best = min(branches, key=lambda b: _branch_score(b, base), default=None)
        if best:
            for sub in best:
                yield from _leaves(sub)
            return
    yield error


def _branch_score(branch: list[Any], base: list[Any]) -> tuple[int, int, int]:
    """Lower is better: no discriminator mismatch, then deepest error, then fewest errors."""
    mismatch = 0
    depth = 0
    for sub in branch:
        path = list(sub.instance_path)
        depth = max(depth, len(path))
        if (
            sub.kind.name in ("enum", "const")
            and len(path) == len(base) + 1
            and path[:-1] == base
            and path[-1] in _DISCRIMINATORS
        ):
            mismatch = 1
    return (mismatch, -depth, len(branch))


def _pointer(path: Any) -> str:
    return "".join(f"/{escape_pointer(token)}" for token in path)


def _message(error: Any) -> str:
    """A readable message for one schema error, saying how to fix it."""
    kind = error.kind
    name = kind.name
    info = _kind_info(kind)
    where = _describe(_pointer(error.instance_path))
    if name == "required":
        missing = info.get("property")
        return f"{where} is missing the required key {json.dumps(missing)}; add it"
    if name == "additionalProperties":
        unexpected = info.get("unexpected") or []
        keys = ", ".join(json.dumps(k) for k in unexpected)
        return f"{where} does not allow {keys}; remove it, fix its spelling, or prefix a custom key with `x-`"
    if name == "type":
        expected = info.get("types")
        return f"{where} must be of type {_types(expected)}, not {_json_type(error.instance)}"
    if name == "enum":
        options = info.get("options")
        return f"{where} is {json.dumps(error.instance)[:80]}; use one of {json.dumps(options)[:200]}"
    if name == "pattern":
        return (
            f"{where} is {json.dumps(error.instance)[:80]}, which does not match the pattern "
            f"{info.get('pattern', '')!r}"
        )
    if name == "uniqueItems":
        return f"{where} lists the same item twice; remove the duplicate"
    if name == "minProperties":
        return f"{where} must not be empty"
    if name == "not":
        return f"{where} has a shape the specification forbids here"
    return f"{where}: {error.message}"


def _kind_info(kind: Any) -> dict[str, Any]:
    try:
        info = kind.as_dict()
    except Exception:  # a kind without details: the generic message still works
        return {}
    return info if isinstance(info, dict) else {}


def _describe(pointer: str) -> str:
    """Name a place for people: ``GET /items`` parameters rather than an escaped pointer."""
    if not pointer:
        return "the document root"
    tokens = [unescape_token(t) for t in pointer[1:].split("/")]
    if len(tokens) >= 3 and tokens[0] == "paths" and tokens[2] in HTTP_METHODS:
        rest = "/".join(tokens[3:])
        head = f"`{tokens[2].upper()} {tokens[1]}`"
        return f"{head} {rest}" if rest else head
    if len(tokens) >= 2 and tokens[0] == "paths":
        rest = "/".join(tokens[2:])
        return f"path `{tokens[1]}` {rest}".rstrip()
    return "`" + "/".join(tokens) + "`"


def _types(expected: Any) -> str:
    if isinstance(expected, (list, tuple)):
        return " or ".join(str(t) for t in expected)
    return str(expected)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


describe = _describe
