"""Which hosts a run's Http actions may call: an environment data policy's endpoint rules.

Power Platform's DLP "endpoint filtering" for the HTTP connector: an ordered pair of lists of
host patterns, denied first, then allowed (an empty allow list allows every host not denied).
Patterns are host names with ``*`` wildcards (``*.example.com`` matches ``api.example.com``, not
``example.com``), compared case-insensitively. The network policy (SSRF guard) still applies
underneath: these rules only ever narrow what an Http action may reach.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase

__all__ = ["NO_HOST_RULES", "HostRules"]


@dataclass(frozen=True)
class HostRules:
    """Allowed and denied host patterns; :meth:`refusal` says why a host may not be called."""

    allowed: tuple[str, ...] = ()
    denied: tuple[str, ...] = ()

    @classmethod
    def of(cls, allowed: Iterable[str] = (), denied: Iterable[str] = ()) -> HostRules:
        """Rules from loose lists (normalized once: lowercase, no trailing dot)."""
        return cls(
            tuple(_norm(p) for p in allowed if p.strip()), tuple(_norm(p) for p in denied if p.strip())
        )

    def refusal(self, host: str) -> str | None:
        """Why ``host`` is refused (naming the rule), or None when it may be called."""
        name = _norm(host)
        for pattern in self.denied:
            if fnmatchcase(name, pattern):
                return (
                    f"host {name!r} matches the denied pattern {pattern!r} of the environment's data policy"
                )
        if self.allowed and not any(fnmatchcase(name, pattern) for pattern in self.allowed):
            return (
                f"host {name!r} is not in the environment's data policy allowed hosts "
                f"({', '.join(self.allowed)})"
            )
        return None


def _norm(value: str) -> str:
    return value.strip().lower().rstrip(".")


# The null object: every host allowed (no data policy, or the engine used as a library).
NO_HOST_RULES = HostRules()
