"""Every lint rule Tether knows, and the checks that emit them.

Rules are declared once, beside the check that emits them, with a stable id, a default
severity, the profiles they run in and a one-line description; the registry is what
``tether lint --list-rules`` and the docs show. Checks are small functions registered with
``@check``; the runner calls each one inside a guard so a bug in one rule becomes an
``internal/rule-crashed`` finding instead of a traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tether.definition.lint._finding import PROFILES, Profile, Severity

if TYPE_CHECKING:
    from tether.definition.lint._context import LintContext

__all__ = ["CHECKS", "RULES", "Check", "Rule", "check", "define_rule", "rules_for"]

BOTH: tuple[Profile, ...] = ("custom", "certification")
CERTIFICATION: tuple[Profile, ...] = ("certification",)


@dataclass(frozen=True)
class Rule:
    """A rule's identity and defaults.

    ``severity`` applies in the ``custom`` profile; ``certification_severity`` (when set)
    replaces it in the stricter ``certification`` profile, e.g. unknown ``x-ms-*`` keys are
    a warning for Tether (it ignores them) but an error for Microsoft's validator.
    """

    id: str
    severity: Severity
    description: str
    profiles: tuple[Profile, ...] = BOTH
    certification_severity: Severity | None = None

    def severity_in(self, profile: Profile) -> Severity:
        if profile == "certification" and self.certification_severity is not None:
            return self.certification_severity
        return self.severity

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "severity": self.severity,
            "certification_severity": self.severity_in("certification"),
            "profiles": list(self.profiles),
            "description": self.description,
        }


RULES: dict[str, Rule] = {}


def define_rule(
    id: str,
    severity: Severity,
    description: str,
    *,
    profiles: Iterable[Profile] = BOTH,
    certification_severity: Severity | None = None,
) -> Rule:
    """Register a rule; ids must be unique because users suppress and search by them."""
    if id in RULES:
        raise RuntimeError(f"lint rule {id!r} is defined twice")
    chosen = tuple(profiles)
    unknown = set(chosen) - set(PROFILES)
    if unknown:
        raise RuntimeError(f"lint rule {id!r} names unknown profile(s) {sorted(unknown)}")
    rule = Rule(id, severity, description, chosen, certification_severity)
    RULES[id] = rule
    return rule


CheckFunction = Callable[["LintContext"], None]


@dataclass(frozen=True)
class Check:
    """A function that inspects a package and reports findings through the context."""

    name: str
    function: CheckFunction
    profiles: tuple[Profile, ...]


CHECKS: list[Check] = []


def check(*, profiles: Iterable[Profile] = BOTH) -> Callable[[CheckFunction], CheckFunction]:
    """Decorator registering a check function to run in ``profiles``."""

    def register(function: CheckFunction) -> CheckFunction:
        CHECKS.append(Check(f"{function.__module__}.{function.__qualname__}", function, tuple(profiles)))
        return function

    return register


def rules_for(profile: Profile) -> list[Rule]:
    """The rules that can fire in ``profile``, sorted by id."""
    return sorted((r for r in RULES.values() if profile in r.profiles), key=lambda r: r.id)
