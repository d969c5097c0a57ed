"""Linting connector packages: structure, Microsoft's extensions, apiProperties, certification.

Pure (no database, no network) and fast enough to run on every save. ``lint_package`` and
``lint_document`` return ``Finding`` values, each with a stable rule id from ``RULES``, a
severity that depends on the profile (``custom`` or ``certification``), a message saying
what to fix, and a JSON pointer plus line.

    >>> from tether.definition import load_package
    >>> from tether.definition.lint import lint_package
    >>> for finding in lint_package(load_package("my-connector/")):  # doctest: +SKIP
    ...     print(finding)
"""

from __future__ import annotations

from tether.definition.lint._finding import PROFILES, SEVERITIES, Finding, Profile, Severity
from tether.definition.lint._limits import limit_finding
from tether.definition.lint._registry import RULES, Rule, rules_for
from tether.definition.lint._runner import lint_document, lint_package

__all__ = [
    "PROFILES",
    "RULES",
    "SEVERITIES",
    "Finding",
    "Profile",
    "Rule",
    "Severity",
    "limit_finding",
    "lint_document",
    "lint_package",
    "rules_for",
]
