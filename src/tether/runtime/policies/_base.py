"""What every policy shares: where it runs (section, operations) and how it reads its parameters."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tether.definition import PolicyTemplateInstance
from tether.runtime.policies._call import PolicyCall, Section
from tether.runtime.policies._errors import InvalidPolicy
from tether.runtime.policies._expressions import Template, compile_template
from tether.runtime.policies._paths import JsonPath, compile_path, compile_subpath

__all__ = ["SECTIONS", "Builder", "Policy", "PolicyInstance", "each_item"]

SECTIONS: tuple[Section, ...] = ("Request", "Response", "Failure")
_PARAMETER_PREFIX = "x-ms-apimTemplateParameter."
_Compiled = TypeVar("_Compiled")  # what a parameter compiles to (a template, a path, ...)
_OPERATIONS_KEY = "x-ms-apimTemplate-operationName"
_SECTION_KEY = "x-ms-apimTemplate-policySection"


@dataclass(frozen=True)
class PolicyInstance:
    """One ``policyTemplateInstances`` entry, normalized: short parameter names, a known section.

    ``operations`` is None when the instance applies to every operation. ``section`` is
    None when the instance does not say; each template then picks its natural one.
    """

    template_id: str
    title: str = ""
    parameters: Mapping[str, Any] = field(default_factory=dict)
    operations: frozenset[str] | None = None
    section: Section | None = None

    @classmethod
    def parse(cls, instance: PolicyTemplateInstance | Mapping[str, Any]) -> PolicyInstance:
        """Normalize a model or raw JSON instance; raises ``InvalidPolicy`` for a broken one."""
        if isinstance(instance, PolicyTemplateInstance):
            template_id, title, raw = instance.template_id, instance.title, instance.parameters
        else:
            template_id, title, raw = (
                instance.get("templateId"),
                instance.get("title"),
                instance.get("parameters"),
            )
        if not isinstance(template_id, str) or not template_id.strip():
            raise InvalidPolicy("a policy template instance has no templateId")
        raw = raw if isinstance(raw, Mapping) else {}
        parameters = {
            key[len(_PARAMETER_PREFIX) :]: value
            for key, value in raw.items()
            if key.startswith(_PARAMETER_PREFIX)
        }
        operations = raw.get(_OPERATIONS_KEY)
        if isinstance(operations, str):
            operations = [operations]
        section = raw.get(_SECTION_KEY)
        normalized = next(
            (s for s in SECTIONS if isinstance(section, str) and s.lower() == section.lower()), None
        )
        if section is not None and normalized is None:
            raise InvalidPolicy(
                f"policy {title or template_id!r}: unknown policy section {section!r}; "
                "use Request, Response or Failure"
            )
        return cls(
            template_id=template_id.strip(),
            title=title or template_id,
            parameters=parameters,
            operations=frozenset(str(o) for o in operations) if isinstance(operations, list) else None,
            section=normalized,
        )

    def required(self, name: str) -> Any:
        """A parameter the template cannot do without."""
        if name not in self.parameters:
            raise InvalidPolicy(f"policy {self.title!r} ({self.template_id}) lacks the parameter '{name}'")
        return self.parameters[name]

    def template(self, name: str, default: Any = None) -> Template:
        """A parameter compiled as a template (``default`` when absent)."""
        value = self.parameters.get(name, default) if default is not None else self.required(name)
        return self._wrap(name, compile_template, value)

    def path(self, name: str, default: str | None = None) -> JsonPath:
        """A parameter compiled as a JSON path (``@body().a``)."""
        value = self.parameters.get(name, default) if default is not None else self.required(name)
        return self._wrap(name, compile_path, value)

    def subpath(self, name: str) -> tuple[str | int, ...]:
        """A sub-path parameter; absent or ``null`` means the parent itself."""
        return self._wrap(name, compile_subpath, self.parameters.get(name))

    def flag(self, name: str, default: bool) -> bool:
        """A boolean written as ``"true"``/``"false"`` (or a JSON boolean)."""
        value = self.parameters.get(name)
        if value is None:
            return default
        return value is True or str(value).strip().lower() == "true"

    def _wrap(self, name: str, compile_: Callable[[Any], _Compiled], value: Any) -> _Compiled:
        try:
            return compile_(value)
        except InvalidPolicy as exc:
            raise InvalidPolicy(
                f"policy {self.title!r} ({self.template_id}), parameter {name}: {exc.message}"
            ) from None


class Policy(ABC):
    """A compiled policy: runs in one section, for some operations (all when ``operations`` is None)."""

    default_section: Section = "Request"

    def __init__(self, instance: PolicyInstance) -> None:
        self.instance = instance
        self.title = instance.title
        self.operations = instance.operations
        self.section: Section = instance.section or self.default_section

    def applies_to(self, operation_id: str) -> bool:
        """Whether this policy runs for ``operation_id``."""
        return self.operations is None or operation_id in self.operations

    @abstractmethod
    async def apply(self, call: PolicyCall) -> None:
        """Change the current message of ``call`` (the request, or the response)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.title!r} {self.section}>"


Builder = Callable[[PolicyInstance], Policy]


def each_item(call: PolicyCall, parent: JsonPath, *, create: bool = False) -> Iterator[Any]:
    """The object(s) a body-shaping policy works on, each bound as ``@item()`` in turn.

    The parent path names an object, or an array whose elements are each shaped (the
    corpus shapes ``@body().invoices`` element by element, writing to ``@item().id``).
    A missing parent is skipped, or created as an empty object when ``create`` is set.
    """
    call.load_body()
    value = parent.get(call.scope)
    if value is None and create:
        value = {}
        parent.set(call.scope, value)
    elements = value if isinstance(value, list) else [] if value is None else [value]
    for element in elements:
        with call.item(element):
            yield element
