"""What the lenient reader forgave, and package-level facts, as findings.

Tether accepts byte-order marks, comments, trailing commas and raw control characters
because Microsoft's tools do, but other tools do not: the user should know, and the
certification profile (stricter) treats them as errors.
"""

from __future__ import annotations

from tether.definition._document import Document
from tether.definition.lint._context import LintContext
from tether.definition.lint._registry import CERTIFICATION, check, define_rule

__all__: list[str] = []

LENIENT_JSON = define_rule(
    "input/lenient-json",
    "warning",
    "The file is not strict JSON (comments, trailing commas, control characters); Tether accepted it.",
    certification_severity="error",
)
BYTE_ORDER_MARK = define_rule(
    "input/byte-order-mark",
    "info",
    "The file starts with a UTF-8 byte-order mark (ignored).",
    certification_severity="warning",
)
NOT_UTF8 = define_rule(
    "input/not-utf8",
    "warning",
    "The file is not UTF-8 and was read as Windows-1252.",
    certification_severity="error",
)
CSHARP_SCRIPT = define_rule(
    "input/csharp-script",
    "info",
    "The package has `script.csx` (C#) but no `script.py`; the C# is kept, not run.",
)
MISSING_PROPERTIES = define_rule(
    "input/missing-properties",
    "error",
    "The package has no `apiProperties.json`, which certification requires.",
    profiles=CERTIFICATION,
)


@check()
def check_reader_warnings(ctx: LintContext) -> None:
    for document in (ctx.definition, ctx.properties):
        if document is not None:
            _report_warnings(ctx, document)
    package = ctx.package
    if package is not None and "script.csx" in package.files and "script.py" not in package.files:
        ctx.report(
            CSHARP_SCRIPT,
            "",
            "script.csx (C# custom code) is kept for export but Tether does not run "
            "it; port it to script.py (`class Script(ScriptBase)` with `async def execute(self)`)",
        )


@check(profiles=CERTIFICATION)
def check_properties_present(ctx: LintContext) -> None:
    if ctx.properties is None:
        ctx.report(
            MISSING_PROPERTIES,
            "",
            "certification needs apiProperties.json (brand colour, connection "
            "parameters, publisher); add it next to the definition",
        )


def _report_warnings(ctx: LintContext, document: Document) -> None:
    for warning in document.warnings:
        # The reader prefixes its warnings with the file name; the finding carries it separately.
        text = warning.split(": ", 1)[-1]
        if "byte-order mark" in text:
            ctx.report(BYTE_ORDER_MARK, "", f"{text}; save the file as UTF-8 without BOM", document=document)
        elif "not UTF-8" in text:
            ctx.report(NOT_UTF8, "", f"{text}; save the file as UTF-8", document=document)
        else:
            ctx.report(
                LENIENT_JSON,
                "",
                f"{text}; remove them so every JSON tool can read the file",
                document=document,
            )
