"""Microsoft's ``x-ms-*`` extensions: known names, value shapes, cross-references.

Microsoft's validator rejects unknown ``x-ms-*`` keys. Tether ignores them, so in the
``custom`` profile they are warnings (usually typos such as ``x-ms-visbility``, which
silently lose the intent) and errors under ``certification``. Shapes that Tether acts on
(visibility, triggers, dynamic values, paging, webhooks) are errors when wrong, because
the runtime or the designer would misbehave. See REFERENCE.md §2.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Any

from tether.definition.lint._context import LintContext
from tether.definition.lint._registry import check, define_rule
from tether.definition.lint._walk import pointer as _pointer
from tether.definition.lint._walk import walk, walk_of

__all__ = ["KNOWN_EXTENSIONS", "iter_extensions"]

UNKNOWN = define_rule(
    "x-ms/unknown-extension",
    "warning",
    "An `x-ms-*` key Microsoft does not define (often a typo); Tether ignores it.",
    certification_severity="error",
)
VALUE_CASE = define_rule(
    "x-ms/value-case",
    "warning",
    "An `x-ms-*` enumerated value in the wrong letter case (e.g. `Advanced`); write it in lower case.",
    certification_severity="error",
)
INVALID_VISIBILITY = define_rule(
    "x-ms/invalid-visibility", "error", "`x-ms-visibility` must be `important`, `advanced` or `internal`."
)
INVALID_TRIGGER = define_rule("x-ms/invalid-trigger", "error", "`x-ms-trigger` must be `single` or `batch`.")
INVALID_URL_ENCODING = define_rule(
    "x-ms/invalid-url-encoding", "error", "`x-ms-url-encoding` must be `single` or `double`."
)
INVALID_VALUE = define_rule(
    "x-ms/invalid-value", "error", "An `x-ms-*` extension has a value of the wrong type or shape."
)
DYNAMIC_SHAPE = define_rule(
    "x-ms/invalid-dynamic",
    "error",
    "An `x-ms-dynamic-*` extension lacks `operationId` or has malformed `parameters`.",
)
DYNAMIC_OPERATION = define_rule(
    "x-ms/unknown-operation",
    "error",
    "An extension (dynamic values/list/schema, capabilities) names an operationId the document lacks.",
)
PAGEABLE = define_rule(
    "x-ms/invalid-pageable", "error", "`x-ms-pageable` must be an object with a string `nextLinkName`."
)
CAPABILITIES = define_rule("x-ms/invalid-capabilities", "error", "`x-ms-capabilities` has the wrong shape.")
NOTIFICATION_CONTENT = define_rule(
    "x-ms/invalid-notification-content",
    "error",
    "`x-ms-notification-content` must be an object with a `schema` for the webhook payload.",
)
INTERNAL_REQUIRED = define_rule(
    "x-ms/internal-required-without-default",
    "error",
    "A required parameter hidden with `x-ms-visibility: internal` has no `default` to send.",
)
WEBHOOK_DELETE = define_rule(
    "x-ms/webhook-without-delete",
    "warning",
    "A webhook trigger exists but the definition has no DELETE operation to unsubscribe with.",
    certification_severity="error",
)

KNOWN_EXTENSIONS = frozenset(
    {
        "x-ms-api-annotation",
        "x-ms-apihub-cached-response",
        "x-ms-capabilities",
        "x-ms-connector-metadata",
        "x-ms-deployment-version",
        "x-ms-docs",
        "x-ms-dynamic-list",
        "x-ms-dynamic-properties",
        "x-ms-dynamic-schema",
        "x-ms-dynamic-tree",
        "x-ms-dynamic-values",
        "x-ms-editor",
        "x-ms-editor-options",
        "x-ms-enum-values",
        "x-ms-keywords",
        "x-ms-media-kind",
        "x-ms-no-generic-test",
        "x-ms-notification-content",
        "x-ms-notification-url",
        "x-ms-openai-data",
        "x-ms-openai-manifest",
        "x-ms-openai-published-to-copilots",
        "x-ms-operation-context",
        "x-ms-pageable",
        "x-ms-property-name-alias",
        "x-ms-require-user-confirmation",
        "x-ms-safe-operation",
        "x-ms-summary",
        "x-ms-test-value",
        "x-ms-trigger",
        "x-ms-trigger-hint",
        "x-ms-trigger-metadata",
        "x-ms-trigger-value",
        "x-ms-url-encoding",
        "x-ms-visibility",
    }
)
_ENUMS = {
    "x-ms-visibility": (("important", "advanced", "internal"), INVALID_VISIBILITY),
    "x-ms-trigger": (("single", "batch"), INVALID_TRIGGER),
    "x-ms-url-encoding": (("single", "double"), INVALID_URL_ENCODING),
}
_TYPES: dict[str, tuple[type, ...]] = {
    "x-ms-summary": (str,),
    "x-ms-trigger-hint": (str,),
    "x-ms-notification-url": (bool,),
    "x-ms-no-generic-test": (bool,),
    "x-ms-safe-operation": (bool,),
    "x-ms-require-user-confirmation": (bool,),
    "x-ms-enum-values": (list,),
    "x-ms-api-annotation": (dict,),
    "x-ms-connector-metadata": (list,),
    "x-ms-operation-context": (dict,),
    "x-ms-openai-data": (dict,),
}
# x-ms-* keys with no shape rule, and the allowed values of the enumerated ones.
_QUIET = (
    KNOWN_EXTENSIONS
    - set(_ENUMS)
    - set(_TYPES)
    - {
        "x-ms-dynamic-values",
        "x-ms-dynamic-list",
        "x-ms-dynamic-schema",
        "x-ms-dynamic-properties",
        "x-ms-dynamic-tree",
        "x-ms-pageable",
        "x-ms-capabilities",
        "x-ms-notification-content",
    }
)
_ENUM_VALUES = {
    key: frozenset(allowed) | ({""} if key == "x-ms-visibility" else set())
    for key, (allowed, _) in _ENUMS.items()
}
_DYNAMIC = ("x-ms-dynamic-values", "x-ms-dynamic-list", "x-ms-dynamic-schema", "x-ms-dynamic-properties")


def iter_extensions(data: Any) -> Iterator[tuple[str, str, Any, dict[str, Any]]]:
    """Yield (pointer, key, value, holder) for every ``x-ms-*`` key in extension position.

    Keys of name maps (schema ``properties``, ``definitions``...) are names, not
    extensions, and literal values (``example``, ``default``, ``enum``) are never entered,
    so a property called ``x-ms-request-id`` is not mistaken for an extension. The lint
    run itself uses the shared walk (``walk_of``) instead of walking again.
    """
    for path, key, value, holder in walk(data).extensions:
        yield _pointer(path), key, value, holder


@check()
def check_extension_values(ctx: LintContext) -> None:
    operation_ids = ctx.spec.operation_ids
    enums = _ENUM_VALUES
    types = _TYPES
    quiet = _QUIET
    for path, key, value, _holder in walk_of(ctx).extensions:
        # Fast path: most extensions are known, simple and right; build no pointer for them.
        if key in quiet:
            continue
        allowed = enums.get(key)
        if allowed is not None and type(value) is str and value in allowed:
            continue
        expected_type = types.get(key)
        if expected_type is not None and isinstance(value, expected_type):
            continue
        pointer = _pointer(path)
        if key not in KNOWN_EXTENSIONS:
            guess = difflib.get_close_matches(key, KNOWN_EXTENSIONS, n=1, cutoff=0.8)
            hint = f"did you mean {guess[0]!r}? " if guess else ""
            ctx.report(
                UNKNOWN,
                pointer,
                f"{key!r} is not a known x-ms-* extension; {hint}Microsoft's "
                "validator rejects unknown x-ms-* keys (use an `x-` prefix without `ms-` for your own)",
            )
        elif key in _ENUMS:
            _check_enum(ctx, pointer, key, value)
        elif key in _TYPES and not isinstance(value, _TYPES[key]):
            expected = " or ".join(_TYPE_NAMES[t] for t in _TYPES[key])
            ctx.report(
                INVALID_VALUE,
                pointer,
                f"{key} must be a {expected}, not {_TYPE_NAMES.get(type(value), 'null')}",
            )
        elif key in _DYNAMIC:
            _check_dynamic(ctx, pointer, key, value, operation_ids)
        elif key == "x-ms-dynamic-tree":
            _check_tree(ctx, pointer, value, operation_ids)
        elif key == "x-ms-pageable":
            link = value.get("nextLinkName", "") if isinstance(value, dict) else None
            if not (isinstance(link, str) or link is None) or not isinstance(value, dict):
                ctx.report(
                    PAGEABLE,
                    pointer,
                    "x-ms-pageable must be an object like "
                    '`{"nextLinkName": "@odata.nextLink"}` naming the response\'s next-link property',
                )
        elif key == "x-ms-capabilities":
            _check_capabilities(ctx, pointer, value, operation_ids)
        elif key == "x-ms-notification-content" and not (
            isinstance(value, dict) and isinstance(value.get("schema"), dict)
        ):
            ctx.report(
                NOTIFICATION_CONTENT,
                pointer,
                "x-ms-notification-content must be an object with a "
                "`schema` describing the payload the API posts back, e.g. "
                '`{"description": "...", "schema": {"$ref": "#/definitions/Event"}}`',
            )


_TYPE_NAMES: dict[type, str] = {
    str: "string",
    bool: "boolean",
    list: "array",
    dict: "object",
    int: "integer",
    float: "number",
}


def _check_enum(ctx: LintContext, pointer: str, key: str, value: Any) -> None:
    allowed, rule = _ENUMS[key]
    if key == "x-ms-visibility" and value == "":
        return  # the Power Platform editor writes "" for "none"; it means the default
    if isinstance(value, str) and value in allowed:
        return
    if isinstance(value, str) and value.strip().lower() in allowed:
        ctx.report(
            VALUE_CASE,
            pointer,
            f"{key} is {value!r}; write {value.strip().lower()!r} (Microsoft's validator is case-sensitive)",
        )
        return
    ctx.report(rule, pointer, f"{key} is {value!r}; use one of {', '.join(allowed)}")


def _check_dynamic(ctx: LintContext, pointer: str, key: str, value: Any, operation_ids: set[str]) -> None:
    if not isinstance(value, dict):
        ctx.report(DYNAMIC_SHAPE, pointer, f"{key} must be an object with an `operationId`")
        return
    operation_id = value.get("operationId")
    if operation_id is None and ("builtInOperation" in value or "capability" in value):
        return  # served by the platform (AadGraph.GetUsers, the file picker), not by an operation here
    if not isinstance(operation_id, str) or not operation_id:
        ctx.report(
            DYNAMIC_SHAPE,
            pointer,
            f"{key} has no `operationId`; name the operation that returns the values or schema",
        )
    elif operation_id not in operation_ids:
        ctx.report(
            DYNAMIC_OPERATION, f"{pointer}/operationId", _unknown_operation(key, operation_id, operation_ids)
        )
    params = value.get("parameters")
    if params is not None and not isinstance(params, dict):
        ctx.report(
            DYNAMIC_SHAPE,
            f"{pointer}/parameters",
            f"{key}.parameters must be an object mapping the target operation's parameter names to values",
        )


def _check_tree(ctx: LintContext, pointer: str, value: Any, operation_ids: set[str]) -> None:
    if not isinstance(value, dict):
        ctx.report(DYNAMIC_SHAPE, pointer, "x-ms-dynamic-tree must be an object with `open`/`browse`")
        return
    for part in ("open", "browse"):
        call = value.get(part)
        operation_id = call.get("operationId") if isinstance(call, dict) else None
        if isinstance(operation_id, str) and operation_id not in operation_ids:
            ctx.report(
                DYNAMIC_OPERATION,
                f"{pointer}/{part}/operationId",
                _unknown_operation(f"x-ms-dynamic-tree.{part}", operation_id, operation_ids),
            )


def _check_capabilities(ctx: LintContext, pointer: str, value: Any, operation_ids: set[str]) -> None:
    if not isinstance(value, dict):
        ctx.report(
            CAPABILITIES,
            pointer,
            "x-ms-capabilities must be an object (e.g. "
            '`{"testConnection": {"operationId": "..."}}` or `{"chunkTransfer": true}`)',
        )
        return
    chunk = value.get("chunkTransfer")
    if chunk is not None and not isinstance(chunk, bool):
        ctx.report(CAPABILITIES, f"{pointer}/chunkTransfer", "chunkTransfer must be true or false")
    test = value.get("testConnection")
    if test is not None:
        operation_id = test.get("operationId") if isinstance(test, dict) else None
        if not isinstance(operation_id, str):
            ctx.report(
                CAPABILITIES,
                f"{pointer}/testConnection",
                "testConnection must be an object with "
                "the `operationId` of a cheap GET that proves the credentials work",
            )
        elif operation_id not in operation_ids:
            ctx.report(
                DYNAMIC_OPERATION,
                f"{pointer}/testConnection/operationId",
                _unknown_operation("testConnection", operation_id, operation_ids),
            )


def _unknown_operation(what: str, operation_id: str, operation_ids: set[str]) -> str:
    guess = difflib.get_close_matches(operation_id, operation_ids, n=1)
    hint = f" (did you mean {guess[0]!r}?)" if guess else ""
    return f"{what} names operationId {operation_id!r}, which no operation in this document has{hint}"


@check()
def check_operation_extensions(ctx: LintContext) -> None:
    webhook = None
    has_delete = False
    for op in ctx.spec.operations:
        has_delete = has_delete or op.method == "delete"
        for param in op.parameters:
            data = param.data
            if (
                data.get("required") is True
                and data.get("x-ms-visibility") == "internal"
                and "default" not in data
                and data.get("in") != "body"
            ):
                ctx.report(
                    INTERNAL_REQUIRED,
                    param.pointer,
                    f"parameter {param.name!r} of {op.label} is required and internal (hidden from "
                    "users) but has no `default`, so nothing can be sent; add a default or make it visible",
                )
        if (
            webhook is None
            and "x-ms-trigger" in op.data
            and op.method == "post"
            and _has_notification_url(ctx, op)
        ):
            webhook = op
    if webhook is not None and not has_delete:
        ctx.report(
            WEBHOOK_DELETE,
            webhook.pointer,
            f"{webhook.label} is a webhook trigger but no DELETE operation exists to remove the "
            "subscription; add one (e.g. `DELETE /webhooks/{id}`, marked `x-ms-visibility: internal`)",
        )


def _has_notification_url(ctx: LintContext, op: Any) -> bool:
    """True when a parameter, or a property of the body schema, receives the callback URL."""
    for param in op.parameters:
        if param.data.get("x-ms-notification-url") is True:
            return True
        _, schema = ctx.spec.follow("", param.data.get("schema"))
        properties = schema.get("properties") if isinstance(schema, dict) else None
        if isinstance(properties, dict) and any(
            isinstance(p, dict) and p.get("x-ms-notification-url") is True for p in properties.values()
        ):
            return True
    return False
