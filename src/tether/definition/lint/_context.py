"""What a check sees: the documents, the profile, a shared index, and ``report()``.

One context per lint run. Checks never build findings themselves: they call ``report``
with a registered rule, so severity (per profile), file name and line are filled in one
place and a rule that is not in the active profile costs nothing.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from tether.definition._document import Document
from tether.definition._package import ConnectorPackage
from tether.definition.lint._finding import Finding, Profile
from tether.definition.lint._locator import Locator
from tether.definition.lint._registry import Rule
from tether.definition.lint._spec import SpecIndex

__all__ = ["LintContext"]


class LintContext:
    """State shared by the checks of one lint run."""

    def __init__(
        self,
        definition: Document,
        *,
        properties: Document | None = None,
        package: ConnectorPackage | None = None,
        profile: Profile = "custom",
    ) -> None:
        self.definition = definition
        self.properties = properties
        self.package = package
        self.profile: Profile = profile
        self.findings: list[Finding] = []
        self._locators: dict[int, Locator] = {}
        self._seen: set[tuple[str, str, str, str]] = set()

    @cached_property
    def spec(self) -> SpecIndex:
        document = self.definition
        return SpecIndex(document.data, json_text=document.text if document.format == "json" else None)

    @property
    def properties_root(self) -> dict[str, Any]:
        """``apiProperties.json``'s ``properties`` object, or {} when absent or malformed."""
        data = self.properties.data if self.properties is not None else None
        inner = data.get("properties") if isinstance(data, dict) else None
        return inner if isinstance(inner, dict) else {}

    def report_in(self, rule: Rule, file: str, line: int | None, message: str) -> None:
        """Record a finding of ``rule`` in a file that is not a JSON/YAML document (``script.py``)."""
        if self.profile in rule.profiles:
            self.findings.append(Finding(rule.id, rule.severity_in(self.profile), message, file, "", line))

    def enabled(self, rule: Rule) -> bool:
        return self.profile in rule.profiles

    def report(self, rule: Rule, pointer: str, message: str, *, document: Document | None = None) -> None:
        """Record a finding of ``rule`` at ``pointer`` in ``document`` (the definition by default).

        The same rule at the same place with the same message is reported once, which
        matters for shared parameters and ``$ref`` targets reached from many operations.
        """
        if self.profile not in rule.profiles:
            return
        doc = document if document is not None else self.definition
        key = (rule.id, doc.name, pointer, message)
        if key in self._seen:
            return
        self._seen.add(key)
        locator = self._locators.get(id(doc))
        if locator is None:
            locator = self._locators[id(doc)] = Locator(doc)
        self.findings.append(
            Finding(
                rule.id, rule.severity_in(self.profile), message, doc.name, pointer, locator.line(pointer)
            )
        )
