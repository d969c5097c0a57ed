"""Microsoft's certification content rules (REFERENCE.md §8), certification profile only.

The published checklist (title, description, summaries, brand colour) plus the swagger
rules Microsoft's validator service applies without publishing them, derived here with
stable ids: operationIds present, response schemas, unused definitions, HTTPS only.
"""

from __future__ import annotations

import re
from typing import Any

from tether.definition._document import escape_pointer
from tether.definition.lint._context import LintContext
from tether.definition.lint._registry import CERTIFICATION, check, define_rule

__all__: list[str] = []


def _rule(id: str, description: str, severity: str = "error") -> Any:
    return define_rule(id, severity, description, profiles=CERTIFICATION)  # type: ignore[arg-type]


TITLE_MISSING = _rule("certification/title-missing", "`info.title` is required.")
TITLE_LENGTH = _rule("certification/title-too-long", "The title must be at most 30 characters.")
TITLE_WORDS = _rule(
    "certification/title-forbidden-word",
    "The title must not contain 'API', 'Connector' or a Power Platform product name.",
)
TITLE_END = _rule("certification/title-trailing-character", "The title must end with a letter or digit.")
DESCRIPTION = _rule("certification/description-length", "`info.description` must be 30-500 characters.")
OPERATION_ID = _rule("certification/operation-id-missing", "Every operation needs an operationId.")
OPERATION_SUMMARY = _rule("certification/operation-summary-missing", "Every operation needs a `summary`.")
OPERATION_DESCRIPTION = _rule(
    "certification/operation-description-missing", "Every operation needs a `description`."
)
SUMMARY_STYLE = _rule(
    "certification/summary-style",
    "Operation summaries are at most 80 characters and do not end with a full stop.",
    "warning",
)
PARAMETER_SUMMARY = _rule(
    "certification/parameter-summary-missing", "Every visible parameter needs `x-ms-summary`."
)
PARAMETER_DESCRIPTION = _rule(
    "certification/parameter-description-missing", "Every visible parameter needs a `description`.", "warning"
)
RESPONSE_SCHEMA = _rule(
    "certification/response-schema-missing",
    "A successful response needs a schema unless it is dynamic (`x-ms-dynamic-schema`) or empty (204).",
    "warning",
)
BRAND_COLOR = _rule(
    "certification/brand-color-default", "The brand colour must not be the default #007ee5 or white #ffffff."
)
UNUSED_DEFINITION = _rule(
    "certification/unused-definition", "A schema under `definitions` is never referenced.", "warning"
)
HTTPS_ONLY = _rule("certification/https-only", "Certified connectors must use HTTPS only.")
PUBLISHER = _rule("certification/publisher-missing", "apiProperties needs `publisher` and `stackOwner`.")

MAX_TITLE = 30
DESCRIPTION_RANGE = (30, 500)
_FORBIDDEN_TITLE = re.compile(
    r"\b(api|connector|power\s*(automate|apps|platform|bi|pages|virtual\s*agents)|copilot\s*studio|"
    r"logic\s*apps|dataverse)\b",
    re.IGNORECASE,
)
_FORBIDDEN_COLORS = {"#007ee5", "#ffffff"}


@check(profiles=CERTIFICATION)
def check_info(ctx: LintContext) -> None:
    info = ctx.spec.data.get("info")
    info = info if isinstance(info, dict) else {}
    title = info.get("title")
    if not isinstance(title, str) or not title.strip():
        ctx.report(TITLE_MISSING, "/info", "add `info.title`, the connector's display name")
    else:
        title = title.strip()
        if len(title) > MAX_TITLE:
            ctx.report(
                TITLE_LENGTH,
                "/info/title",
                f"the title {title!r} has {len(title)} characters; shorten it to {MAX_TITLE} or fewer",
            )
        word = _FORBIDDEN_TITLE.search(title)
        if word:
            ctx.report(
                TITLE_WORDS,
                "/info/title",
                f"the title {title!r} contains {word.group()!r}; "
                "remove it (certified titles name the service only)",
            )
        if not title[-1].isalnum():
            ctx.report(
                TITLE_END,
                "/info/title",
                f"the title {title!r} ends with {title[-1]!r}; end it with a letter or digit",
            )
    description = info.get("description")
    length = len(description.strip()) if isinstance(description, str) else 0
    low, high = DESCRIPTION_RANGE
    if not low <= length <= high:
        ctx.report(
            DESCRIPTION,
            "/info/description" if description is not None else "/info",
            f"info.description has {length} characters; write {low}-{high} characters saying what the "
            "service does and what the connector offers",
        )
    schemes = ctx.spec.data.get("schemes")
    if isinstance(schemes, list) and any(s != "https" for s in schemes):
        ctx.report(HTTPS_ONLY, "/schemes", f'schemes is {schemes!r}; use ["https"] only')


@check(profiles=CERTIFICATION)
def check_operations_documented(ctx: LintContext) -> None:
    for op in ctx.spec.operations:
        data = op.data
        if not op.operation_id:
            ctx.report(
                OPERATION_ID, op.pointer, f"{op.label} has no operationId; add a unique, CamelCase one"
            )
        summary = data.get("summary")
        if not isinstance(summary, str) or not summary.strip():
            ctx.report(
                OPERATION_SUMMARY,
                op.pointer,
                f"{op.label} has no summary; add a short title (shown as the action's name)",
            )
        elif len(summary) > 80 or summary.rstrip().endswith("."):
            ctx.report(
                SUMMARY_STYLE,
                f"{op.pointer}/summary",
                f"the summary of {op.label} should be at most 80 characters without a final full stop",
            )
        description = data.get("description")
        if not isinstance(description, str) or not description.strip():
            ctx.report(
                OPERATION_DESCRIPTION,
                op.pointer,
                f"{op.label} has no description; add a sentence saying what it does",
            )
        for param in op.parameters:
            if param.data.get("x-ms-visibility") == "internal" or param.location == "body":
                continue  # hidden from users; a body is documented by its schema's properties
            if not _text(param.data.get("x-ms-summary")):
                ctx.report(
                    PARAMETER_SUMMARY,
                    param.pointer,
                    f"parameter {param.name!r} of {op.label} has no x-ms-summary; add a display name",
                )
            if not _text(param.data.get("description")):
                ctx.report(
                    PARAMETER_DESCRIPTION,
                    param.pointer,
                    f"parameter {param.name!r} of {op.label} has no description; add one",
                )
        _check_responses(ctx, op.pointer, op.label, data.get("responses"))


def _check_responses(ctx: LintContext, pointer: str, label: str, responses: Any) -> None:
    if not isinstance(responses, dict) or ctx.spec.version != "2.0":
        return
    for code, response in responses.items():
        if not (isinstance(code, str) and code.startswith("2") and code != "204"):
            continue
        _, resolved = ctx.spec.follow("", response)
        if isinstance(resolved, dict) and "schema" not in resolved and "x-ms-dynamic-schema" not in resolved:
            ctx.report(
                RESPONSE_SCHEMA,
                f"{pointer}/responses/{escape_pointer(code)}",
                f"response {code} of {label} has no schema; describe the body so flows can use its "
                "fields (or answer 204 when there is none)",
            )


@check(profiles=CERTIFICATION)
def check_unused_definitions(ctx: LintContext) -> None:
    definitions = ctx.spec.data.get("definitions")
    if not isinstance(definitions, dict) or not definitions:
        return
    used = ctx.spec.ref_values
    for name in definitions:
        if f"#/definitions/{escape_pointer(name)}" not in used:
            ctx.report(
                UNUSED_DEFINITION,
                f"/definitions/{escape_pointer(name)}",
                f"definition {name!r} is never referenced; remove it or use it",
            )


@check(profiles=CERTIFICATION)
def check_properties_content(ctx: LintContext) -> None:
    if ctx.properties is None:
        return
    props = ctx.properties_root
    color = props.get("iconBrandColor")
    if isinstance(color, str) and color.strip().lower() in _FORBIDDEN_COLORS:
        ctx.report(
            BRAND_COLOR,
            "/properties/iconBrandColor",
            f"iconBrandColor {color!r} is a default; use "
            'your brand\'s colour (independent publishers use "#da3b01")',
            document=ctx.properties,
        )
    missing = [key for key in ("publisher", "stackOwner") if not _text(props.get(key))]
    if missing and props:
        ctx.report(
            PUBLISHER,
            "/properties",
            f"add {' and '.join(missing)} (who publishes the connector and who owns the service)",
            document=ctx.properties,
        )


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())
