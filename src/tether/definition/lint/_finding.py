"""The value a lint rule produces: one problem, located in one file.

A finding is what users read in the CLI, the portal and ``--json`` output, so its message
says what is wrong *and* how to fix it, and its position is both a JSON pointer (stable,
machine-readable) and a 1-based line (what an editor opens).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["PROFILES", "SEVERITIES", "Finding", "Profile", "Severity"]

Severity = Literal["error", "warning", "info"]
Profile = Literal["custom", "certification"]

SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")
PROFILES: tuple[Profile, ...] = ("custom", "certification")


@dataclass(frozen=True)
class Finding:
    """One problem found by one rule.

    ``rule`` is a stable id (``family/name``, e.g. ``structure/invalid-schema``) that users
    can search for and suppress; ``pointer`` is an RFC 6901 JSON pointer into ``file``
    ("" for the whole document) and ``line`` the 1-based line it starts on, when known.
    """

    rule: str
    severity: Severity
    message: str
    file: str
    pointer: str = ""
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """A plain dict for ``--json`` output and API answers (keys are stable)."""
        return {
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "file": self.file,
            "pointer": self.pointer,
            "line": self.line,
        }

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.severity} [{self.rule}] {self.message}"
