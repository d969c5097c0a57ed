"""Findings for input that cannot be judged safely: reference loops and inputs past a limit.

A chain of references that only point at each other describes nothing and sends validators
and generators into a loop, so it is an error here rather than "no findings". A file past
one of the reading limits (nesting depth, YAML aliases, size; see ``_limits.py``) is not
linted at all: ``tether validate`` reports it as one ``input/limit-exceeded`` finding.
"""

from __future__ import annotations

import re

from tether.definition._refs import reference_cycles
from tether.definition.lint._context import LintContext
from tether.definition.lint._finding import Finding, Profile
from tether.definition.lint._registry import check, define_rule
from tether.errors import LimitExceeded

__all__ = ["limit_finding"]

CIRCULAR_REF = define_rule(
    "structure/circular-ref",
    "error",
    "A chain of `$ref`s points only at each other and never reaches a schema or value.",
)
LIMIT_EXCEEDED = define_rule(
    "input/limit-exceeded",
    "error",
    "The file goes past a reading limit (size, nesting depth, YAML aliases) and was not linted.",
)


@check()
def check_reference_cycles(ctx: LintContext) -> None:
    for cycle in reference_cycles(ctx.definition.data):
        ctx.report(
            CIRCULAR_REF,
            f"{cycle.pointer}/$ref",
            f"circular $ref {cycle.describe()}: each reference points at another reference and "
            "none reaches a schema; point one of them at a real definition (recursion through "
            "properties or items is fine)",
        )


def limit_finding(error: LimitExceeded, *, file: str, profile: Profile = "custom") -> Finding:
    """``error`` (raised while reading ``file``) as an ``input/limit-exceeded`` finding."""
    name = str(error.detail.get("file") or file)
    message, line = error.message, None
    # The reader's message starts with "file[:line:column]: "; the finding carries those apart.
    located = re.match(rf"{re.escape(name)}(?::(\d+):\d+)?: ", message)
    if located:
        message = message[located.end() :]
        line = int(located.group(1)) if located.group(1) else None
    return Finding(
        rule=LIMIT_EXCEEDED.id,
        severity=LIMIT_EXCEEDED.severity_in(profile),
        message=message,
        file=name,
        line=line,
    )
