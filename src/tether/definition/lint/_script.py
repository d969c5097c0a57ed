"""``script.py`` problems caught before upload, rather than at the first call.

The runtime refuses a script that is too large and reports one that does not compile only
when an operation it covers is invoked; lint says so at ``tether validate`` time, with the
line. The script is compiled here, never run.
"""

from __future__ import annotations

from tether.definition._package import SCRIPT_FILE
from tether.definition.lint._context import LintContext
from tether.definition.lint._registry import check, define_rule

__all__ = ["MAX_SCRIPT_BYTES"]

# The runtime's default limit (tether.runtime.script.DEFAULT_LIMITS.max_size; 1 MB as in Power Platform).
MAX_SCRIPT_BYTES = 1024 * 1024

SCRIPT_TOO_LARGE = define_rule(
    "script/too-large",
    "error",
    f"`script.py` is larger than {MAX_SCRIPT_BYTES:,} bytes; the runtime refuses to run it.",
)
SCRIPT_NUL_BYTES = define_rule(
    "script/nul-bytes",
    "error",
    "`script.py` holds NUL bytes, so it is not a Python source file.",
)
SCRIPT_SYNTAX = define_rule(
    "script/syntax-error",
    "error",
    "`script.py` does not compile; every call it covers would fail.",
)


@check()
def check_script(ctx: LintContext) -> None:
    package = ctx.package
    raw = package.files.get(SCRIPT_FILE) if package is not None else None
    if package is None or raw is None:
        return
    file = f"{package.source}/{SCRIPT_FILE}"
    if len(raw) > MAX_SCRIPT_BYTES:
        ctx.report_in(
            SCRIPT_TOO_LARGE,
            file,
            None,
            f"{SCRIPT_FILE} is {len(raw):,} bytes; the limit is {MAX_SCRIPT_BYTES:,} bytes: move data out "
            "of the script (fetch it from the API) or split the logic",
        )
        return
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        ctx.report_in(
            SCRIPT_NUL_BYTES,
            file,
            line,
            f"{SCRIPT_FILE} holds a NUL byte on line {line}; save it as plain UTF-8 text",
        )
        return
    source = raw.decode("utf-8-sig", errors="replace")
    try:
        compile(source, SCRIPT_FILE, "exec", dont_inherit=True)
    except SyntaxError as exc:
        where = f" on line {exc.lineno}" if exc.lineno else ""
        ctx.report_in(
            SCRIPT_SYNTAX,
            file,
            exc.lineno,
            f"{SCRIPT_FILE} does not compile{where}: {exc.msg}; fix it (custom code is Python 3, "
            "`class Script(ScriptBase)` with `async def execute(self)`)",
        )
    except (ValueError, MemoryError, RecursionError) as exc:
        ctx.report_in(SCRIPT_SYNTAX, file, None, f"{SCRIPT_FILE} does not compile: {exc}")
