"""What openapi-spec-validator checks that a JSON Schema cannot.

Path templates against declared path parameters, unique operationIds, local ``$ref``s
that resolve, duplicate and conflicting parameters; and, in every schema-like object
(schemas anywhere, parameters, headers, items), ``default`` and ``enum`` values that
contradict the declared type, duplicate ``enum`` values, and ``required`` names that no
property declares. These are the checks that decide whether Tether can build a request at all.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from typing import Any

from tether.definition.lint._context import LintContext
from tether.definition.lint._registry import check, define_rule
from tether.definition.lint._spec import Operation, SpecIndex
from tether.definition.lint._structure import describe
from tether.definition.lint._walk import Path, pointer, walk_of

__all__: list[str] = []

DUPLICATE_OPERATION_ID = define_rule(
    "structure/duplicate-operation-id", "error", "Two operations share one operationId."
)
PATH_PARAMETER_UNDECLARED = define_rule(
    "structure/path-parameter-undeclared",
    "error",
    "A `{name}` in the path template has no matching `in: path` parameter.",
)
PATH_PARAMETER_UNUSED = define_rule(
    "structure/path-parameter-unused",
    "error",
    "An `in: path` parameter does not appear in the path template.",
)
UNRESOLVED_REF = define_rule("structure/unresolved-ref", "error", "A local `$ref` points at nothing.")
EXTERNAL_REF = define_rule(
    "structure/external-ref",
    "warning",
    "A `$ref` points outside the document; Tether and Power Platform only resolve local references.",
    certification_severity="error",
)
DUPLICATE_PARAMETER = define_rule(
    "structure/duplicate-parameter",
    "error",
    "An operation declares the same parameter (name and `in`) twice.",
)
BODY_PARAMETERS = define_rule(
    "structure/body-parameter-conflict",
    "error",
    "An operation has more than one body parameter, or mixes `in: body` with `in: formData`.",
)
DEFAULT_TYPE = define_rule(
    "structure/default-type-mismatch",
    "warning",
    "A `default` or `enum` value does not match the `type` of its schema or parameter "
    "(Power Platform coerces it).",
)
DUPLICATE_ENUM = define_rule(
    "structure/duplicate-enum-value",
    "warning",
    "An `enum` lists the same value twice (JSON Schema requires unique values).",
    certification_severity="error",
)
REQUIRED_UNDECLARED = define_rule(
    "structure/required-property-undeclared",
    "warning",
    "A schema's `required` names a property that neither `properties` nor allOf/anyOf/oneOf declares.",
)

_TEMPLATE_NAME = re.compile(r"{([^{}]+)}")
_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


@check()
def check_operation_ids(ctx: LintContext) -> None:
    by_id: dict[str, list[Operation]] = defaultdict(list)
    for op in ctx.spec.operations:
        if op.operation_id:
            by_id[op.operation_id].append(op)
    for operation_id, ops in by_id.items():
        for op in ops[1:]:
            first = ops[0]
            ctx.report(
                DUPLICATE_OPERATION_ID,
                f"{op.pointer}/operationId",
                f"operationId {operation_id!r} of {op.method.upper()} {op.path} is already used by "
                f"{first.method.upper()} {first.path}; operationIds must be unique, rename one",
            )


@check()
def check_path_parameters(ctx: LintContext) -> None:
    for op in ctx.spec.operations:
        in_template = set(_TEMPLATE_NAME.findall(op.path))
        declared = {p.name: p for p in op.parameters if p.location == "path" and p.name}
        for name in sorted(in_template - set(declared)):
            ctx.report(
                PATH_PARAMETER_UNDECLARED,
                f"{op.pointer}/parameters" if "parameters" in op.data else op.pointer,
                f"{op.method.upper()} {op.path} uses {{{name}}} but declares no path parameter "
                f'named {name!r}; add `{{"name": "{name}", "in": "path", "required": true, '
                f'"type": "string"}}`',
            )
        for name in sorted(set(declared) - in_template):
            ctx.report(
                PATH_PARAMETER_UNUSED,
                declared[name].pointer,
                f"path parameter {name!r} of {op.method.upper()} {op.path} is not in the path "
                f"template; add {{{name}}} to the path or change its `in`",
            )


@check()
def check_parameter_lists(ctx: LintContext) -> None:
    for op in ctx.spec.operations:
        seen: dict[tuple[str | None, str | None], str] = {}
        for param in op.parameters:
            key = (param.name, param.location)
            if key in seen and param.name is not None:
                ctx.report(
                    DUPLICATE_PARAMETER,
                    param.pointer,
                    f"{op.label} declares {param.location} parameter {param.name!r} twice; remove one",
                )
            seen.setdefault(key, param.pointer)
        bodies = [p for p in op.parameters if p.location == "body"]
        forms = [p for p in op.parameters if p.location == "formData"]
        if len(bodies) > 1:
            ctx.report(
                BODY_PARAMETERS,
                bodies[1].pointer,
                f"{op.label} has {len(bodies)} body parameters; Swagger 2.0 allows one, so merge "
                "them into one object schema",
            )
        elif bodies and forms:
            ctx.report(
                BODY_PARAMETERS,
                forms[0].pointer,
                f"{op.label} mixes a body parameter with formData parameters; use one or the other",
            )


@check()
def check_schema_values(ctx: LintContext) -> None:
    """``default`` / ``enum`` against ``type``, duplicate enum values, undeclared ``required``.

    Runs on every schema-like object of the shared walk (schemas anywhere, Swagger 2.0
    parameters, headers, items), which is what openapi-spec-validator checks with
    ``default`` and more (it stops at the first problem; this reports them all).
    """
    spec = ctx.spec
    types = _PYTHON_TYPES
    for path, node in walk_of(ctx).schemas:
        declared = node.get("type")
        if type(declared) is str:
            declared = (declared,) if declared in types else None
        elif type(declared) is list:
            declared = tuple(t for t in declared if type(t) is str and t in types) or None
        else:
            declared = None
        if "default" in node and declared is not None:
            default = node["default"]
            if default is not None and not _matches_any(default, declared):
                where = pointer(path)
                ctx.report(
                    DEFAULT_TYPE,
                    f"{where}/default",
                    f"{_what(where, node)}: default {_show(default)} is {_a(default)} but the "
                    f"{_kind(node)} type is {' or '.join(declared)}; write {_fix(default, declared)}",
                )
        enum = node.get("enum")
        if type(enum) is list and enum and not _enum_is_fine(enum, declared):
            _check_enum(ctx, path, node, enum, declared)
        required = node.get("required")
        if type(required) is list and required:
            _check_required(ctx, spec, path, node, required)


def _enum_is_fine(enum: list[Any], declared: tuple[str, ...] | None) -> bool:
    """The common case decided in bulk: values of the declared type and no duplicates."""
    if declared == ("string",):
        if not all(type(v) is str for v in enum):
            return False
    elif declared is not None and not all(v is None or _matches_any(v, declared) for v in enum):
        return False
    try:
        return len(set(enum)) == len(enum)  # 1 and true collide here; the slow path tells them apart
    except TypeError:  # objects or arrays among the values
        return False


def _check_enum(
    ctx: LintContext, path: Path, node: dict[str, Any], enum: list[Any], declared: tuple[str, ...] | None
) -> None:
    seen: set[Any] = set()
    where: str | None = None
    for index, value in enumerate(enum):
        if declared is not None and value is not None and not _matches_any(value, declared):
            where = where or pointer(path)
            ctx.report(
                DEFAULT_TYPE,
                f"{where}/enum/{index}",
                f"{_what(where, node)}: enum value {_show(value)} is {_a(value)} but the {_kind(node)} "
                f"type is {' or '.join(declared)}; write {_fix(value, declared)}",
            )
        key = _identity(value)
        if key in seen:
            where = where or pointer(path)
            ctx.report(
                DUPLICATE_ENUM,
                f"{where}/enum/{index}",
                f"{_what(where, node)}: enum lists {_show(value)} more than once; remove the duplicate",
            )
        seen.add(key)


def _check_required(
    ctx: LintContext, spec: SpecIndex, path: Path, node: dict[str, Any], required: list[Any]
) -> None:
    if "in" in node or _open_ended(node):
        return  # a parameter (``required`` is its flag), or any property name is allowed
    declared = _declared_properties(spec, node, 0)
    if declared is None:
        return  # part of the shape is unknown (dynamic schema, unresolved $ref)
    missing = [name for name in required if type(name) is str and name not in declared]
    if not missing:
        return
    where = pointer(path)
    names = ", ".join(repr(name) for name in missing)
    pronoun = "it" if len(missing) == 1 else "them"
    if node.get("type") == "array" and isinstance(node.get("items"), dict):
        fix = "`required` applies to the array's items here: move it into `items`"
    else:
        fix = (
            f"declare {pronoun} under `properties` (or fix the spelling), or remove {pronoun} from `required`"
        )
    ctx.report(
        REQUIRED_UNDECLARED,
        f"{where}/required",
        f"{_what(where, node)} requires {names} but its `properties` do not declare {pronoun}; {fix}",
    )


def _open_ended(node: dict[str, Any]) -> bool:
    extra = node.get("additionalProperties")
    return (
        (extra is not None and extra is not False)
        or "x-ms-dynamic-schema" in node
        or "x-ms-dynamic-properties" in node
        or "patternProperties" in node
    )


def _declared_properties(spec: SpecIndex, node: Any, depth: int) -> set[str] | None:
    """Property names ``node`` declares itself or through ``$ref`` / allOf / anyOf / oneOf.

    None when some of them cannot be known (a dangling or external ``$ref``, a dynamic
    schema, an open-ended member), so the caller stays quiet instead of guessing.
    """
    if depth > 16 or not isinstance(node, dict):
        return set()
    if "$ref" in node:
        target = spec.resolve(node["$ref"])
        if target is None:
            return None
        inner = _declared_properties(spec, target[1], depth + 1)
        if inner is None:
            return None
        names = set(inner)
    else:
        names = set()
    if depth and _open_ended(node):
        return None
    properties = node.get("properties")
    if isinstance(properties, dict):
        names.update(k for k in properties if isinstance(k, str))
    for keyword in ("allOf", "anyOf", "oneOf"):
        members = node.get(keyword)
        if isinstance(members, list):
            for member in members:
                inner = _declared_properties(spec, member, depth + 1)
                if inner is None:
                    return None
                names |= inner
    return names


@check()
def check_refs(ctx: LintContext) -> None:
    spec = ctx.spec
    verdicts: dict[str, bool] = {}
    for path, ref in walk_of(ctx).refs:
        if type(ref) is str:
            good = verdicts.get(ref)
            if good is None:
                good = verdicts[ref] = ref.startswith("#") and spec.resolve(ref) is not None
            if good:
                continue
        where = pointer(path)
        if not isinstance(ref, str):
            ctx.report(UNRESOLVED_REF, where, f"$ref must be a string, not {type(ref).__name__}")
        elif not ref.startswith("#"):
            ctx.report(
                EXTERNAL_REF,
                where,
                f"$ref {ref!r} points outside this document; inline it under `definitions` "
                "(or `components`) and refer to it as `#/...`",
            )
        else:
            ctx.report(
                UNRESOLVED_REF,
                where,
                f"$ref {ref!r} points at nothing in this document; fix the name or add the target",
            )


def _matches(value: Any, declared: str) -> bool:
    if declared in ("integer", "number") and isinstance(value, bool):
        return False
    if declared == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, _PYTHON_TYPES[declared])


def _matches_any(value: Any, declared: tuple[str, ...]) -> bool:
    return any(_matches(value, t) for t in declared)


def _identity(value: Any) -> Any:
    """A hashable key equal for equal JSON values (``1`` and ``true`` differ, as in JSON)."""
    if isinstance(value, (dict, list)):
        return ("json", json.dumps(value, sort_keys=True, default=str))
    return (type(value) is bool, value)


def _show(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _a(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


def _kind(node: dict[str, Any]) -> str:
    return "parameter" if "in" in node else "schema"


def _what(where: str, node: dict[str, Any]) -> str:
    name = node.get("name")
    if "in" in node and isinstance(name, str):
        return f"parameter {name!r} ({describe(where)})"
    return f"schema {describe(where)}"


def _fix(value: Any, declared: tuple[str, ...]) -> str:
    """How to write ``value`` as the first of the ``declared`` types, as concretely as possible."""
    target = declared[0]
    text = value.strip() if isinstance(value, str) else None
    if target == "boolean":
        if text is not None and text.lower() in ("true", "false"):
            return text.lower()
        if value in (0, 1) and not isinstance(value, bool):
            return "true" if value else "false"
        return "true or false"
    if target in ("integer", "number"):
        if text is not None:
            try:
                number = float(text)
            except ValueError:
                number = None
            if number is not None and number == number and abs(number) != float("inf"):
                if number.is_integer():
                    return str(int(number))
                if target == "number":
                    return repr(number)
        return f"{'an integer' if target == 'integer' else 'a number'} without quotes"
    if target == "string":
        if isinstance(value, (bool, int, float)) or value is None:
            return json.dumps(json.dumps(value))
        return "a string"
    if target == "array":
        return f"[{json.dumps(value, ensure_ascii=False, default=str)[:40]}]"
    return "an object"
