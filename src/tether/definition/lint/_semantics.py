"""What openapi-spec-validator checks that a JSON Schema cannot.

Path templates against declared path parameters, unique operationIds, local ``$ref``s
that resolve, duplicate and conflicting parameters, and defaults that contradict their
declared type. These are the checks that decide whether Tether can build a request at all.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from tether.definition.lint._context import LintContext
from tether.definition.lint._registry import check, define_rule
from tether.definition.lint._spec import Operation, iter_refs

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
    "A parameter's `default` does not match its declared `type` (Power Platform coerces it).",
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
def check_defaults(ctx: LintContext) -> None:
    for op in ctx.spec.operations:
        for param in op.parameters:
            data = param.data
            declared = data.get("type")
            if "default" not in data or not isinstance(declared, str) or declared not in _PYTHON_TYPES:
                continue
            default = data["default"]
            if default is None or _matches(default, declared):
                continue
            ctx.report(
                DEFAULT_TYPE,
                f"{param.pointer}/default",
                f"the default of parameter {param.name!r} is {default!r} but its type is {declared}; "
                f"write it as {'an' if declared == 'integer' else 'a'} {declared} "
                f"(e.g. {_example(default, declared)})",
            )


@check()
def check_refs(ctx: LintContext) -> None:
    spec = ctx.spec
    if all(ref.startswith("#") and spec.resolve(ref) is not None for ref in spec.ref_values):
        return  # the common case, decided without walking the document
    for pointer, ref in iter_refs(ctx.definition.data):
        if not isinstance(ref, str):
            ctx.report(UNRESOLVED_REF, pointer, f"$ref must be a string, not {type(ref).__name__}")
        elif not ref.startswith("#"):
            ctx.report(
                EXTERNAL_REF,
                pointer,
                f"$ref {ref!r} points outside this document; inline it under `definitions` "
                "(or `components`) and refer to it as `#/...`",
            )
        elif spec.resolve(ref) is None:
            ctx.report(
                UNRESOLVED_REF,
                pointer,
                f"$ref {ref!r} points at nothing in this document; fix the name or add the target",
            )


def _matches(value: Any, declared: str) -> bool:
    if declared in ("integer", "number") and isinstance(value, bool):
        return False
    if declared == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, _PYTHON_TYPES[declared])


def _example(value: Any, declared: str) -> str:
    if declared == "boolean" and isinstance(value, str):
        return "true" if value.strip().lower() == "true" else "false"
    if declared in ("integer", "number") and isinstance(value, str):
        return value.strip() or "0"
    return {"string": '"..."', "array": "[...]", "object": "{...}"}.get(declared, "0")
