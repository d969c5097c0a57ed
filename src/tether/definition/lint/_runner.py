"""Running the registered checks over a package or a single definition.

Linting must never fail on the input it is meant to judge: each check runs inside a guard,
and a crash becomes an ``internal/rule-crashed`` finding naming the check, so users still
get every other rule's findings and we get a reproducible bug report.
"""

from __future__ import annotations

from tether.definition._document import Document
from tether.definition._package import ConnectorPackage
from tether.definition.lint import (  # noqa: F401  (importing registers the checks)
    _certification,
    _extensions,
    _input,
    _limits,
    _policies,
    _properties,
    _script,
    _semantics,
    _structure,
)
from tether.definition.lint._context import LintContext
from tether.definition.lint._finding import PROFILES, Finding, Profile
from tether.definition.lint._registry import CHECKS, define_rule
from tether.errors import InputError

__all__ = ["lint_document", "lint_package"]

RULE_CRASHED = define_rule(
    "internal/rule-crashed",
    "error",
    "A lint rule hit a shape it did not expect; a Tether bug, reported instead of crashing.",
)

_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def lint_package(package: ConnectorPackage, *, profile: Profile = "custom") -> list[Finding]:
    """Lint a whole connector package: definition, apiProperties and how they fit together.

    ``profile="custom"`` reports what breaks loading, running or Power Platform import;
    ``"certification"`` adds Microsoft's certification content rules and stricter style.
    Findings are sorted by file, line and rule.
    """
    ctx = LintContext(
        package.definition, properties=package.properties, package=package, profile=_checked(profile)
    )
    return _run(ctx)


def lint_document(
    document: Document, *, profile: Profile = "custom", properties: Document | None = None
) -> list[Finding]:
    """Lint a single API definition (optionally with its ``apiProperties.json``)."""
    ctx = LintContext(document, properties=properties, profile=_checked(profile))
    return _run(ctx)


def _checked(profile: str) -> Profile:
    if profile not in PROFILES:
        raise InputError(f"unknown lint profile {profile!r}; use one of {', '.join(PROFILES)}")
    return profile


def _run(ctx: LintContext) -> list[Finding]:
    for registered in CHECKS:
        if ctx.profile not in registered.profiles:
            continue
        try:
            registered.function(ctx)
        except Exception as exc:  # a rule bug must not hide every other finding
            ctx.report(
                RULE_CRASHED,
                "",
                f"check {registered.name} crashed ({type(exc).__name__}: {exc}); this is a bug in "
                "Tether, please report it with this file; the other rules still ran",
            )
    return sorted(
        ctx.findings,
        key=lambda f: (f.file, f.line or 0, _SEVERITY_ORDER[f.severity], f.rule, f.pointer),
    )
