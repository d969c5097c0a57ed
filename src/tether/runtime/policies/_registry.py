"""From ``templateId`` (any case) to the builder of its policy class.

Like Airbyte's ``ModelToComponentFactory``, but a dictionary: each family module
contributes its ``BUILDERS``, and :func:`build_policies` compiles every instance once.
An unknown ``templateId`` is an ``InvalidPolicy`` naming the known ones: a policy that
silently did nothing would send requests the API does not expect.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from tether.definition import PolicyTemplateInstance
from tether.runtime.policies import (
    _connection,
    _conversions,
    _lookup,
    _paging,
    _parameters,
    _polling,
    _properties,
    _routing,
)
from tether.runtime.policies._base import Builder, Policy, PolicyInstance
from tether.runtime.policies._errors import InvalidPolicy

__all__ = ["TEMPLATES", "build_policies", "build_policy"]

TEMPLATES: Mapping[str, Builder] = MappingProxyType(
    {
        template_id: builder
        for family in (
            _parameters,
            _routing,
            _properties,
            _conversions,
            _paging,
            _polling,
            _lookup,
            _connection,
        )
        for template_id, builder in family.BUILDERS.items()
    }
)


def build_policy(instance: PolicyTemplateInstance | Mapping[str, Any]) -> Policy:
    """Compile one instance; raises ``InvalidPolicy`` when it cannot run."""
    parsed = PolicyInstance.parse(instance)
    builder = TEMPLATES.get(parsed.template_id.lower())
    if builder is None:
        raise InvalidPolicy(
            f"policy {parsed.title!r}: unknown templateId {parsed.template_id!r}; "
            f"known: {', '.join(sorted(TEMPLATES))}",
            detail={"templateId": parsed.template_id},
        )
    return builder(parsed)


def build_policies(instances: Iterable[PolicyTemplateInstance | Mapping[str, Any]]) -> list[Policy]:
    """Compile every instance, in order; reports every broken one together."""
    policies: list[Policy] = []
    problems: list[str] = []
    for index, instance in enumerate(instances):
        try:
            policies.append(build_policy(instance))
        except InvalidPolicy as exc:
            problems.append(f"policyTemplateInstances[{index}]: {exc.message}")
    if problems:
        raise InvalidPolicy("; ".join(problems), detail={"problems": problems})
    return policies
