"""The policy stage: request policies, then ``send``, then response or failure policies.

Policies run in the order the connector declares them, which matters (Cradl AI switches
the host to its token endpoint, fetches a token, then switches back). The Response section
runs for answers below 400 and the Failure section for the others, so body shaping never
meets an error body of another shape.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import httpx

from tether.definition import Api, ApiProperties, PolicyTemplateInstance
from tether.runtime._pipeline import Exchange, Send
from tether.runtime.policies._base import SECTIONS, Policy
from tether.runtime.policies._call import PolicyCall, Section
from tether.runtime.policies._registry import build_policies

__all__ = ["PolicyStage", "build_policy_stage"]

_Plan = dict[Section, tuple[Policy, ...]]


class PolicyStage:
    """A pipeline stage applying compiled policies; plans are cached per operation."""

    def __init__(self, policies: Sequence[Policy]) -> None:
        self.policies = tuple(policies)
        self._plans: dict[str, _Plan] = {}

    def plan(self, operation_id: str) -> _Plan:
        """The policies that run for ``operation_id``, by section, in declaration order."""
        plan = self._plans.get(operation_id)
        if plan is None:
            plan = {
                section: tuple(
                    p for p in self.policies if p.section == section and p.applies_to(operation_id)
                )
                for section in SECTIONS
            }
            self._plans[operation_id] = plan
        return plan

    async def __call__(self, exchange: Exchange, send: Send) -> httpx.Response:
        plan = self.plan(exchange.operation.operation_id)
        if not any(plan.values()):
            return await send(exchange)
        call = PolicyCall(exchange, send)
        for policy in plan["Request"]:
            await policy.apply(call)
        response = await send(call.finish_request())
        section: Section = "Response" if response.status_code < 400 else "Failure"
        if not plan[section]:
            return response
        await call.start_response(response, section)
        for policy in plan[section]:
            await policy.apply(call)
        return call.finish_response()

    def __repr__(self) -> str:
        return f"PolicyStage({len(self.policies)} policies)"


def build_policy_stage(
    api: Api | None,
    properties: ApiProperties | Iterable[PolicyTemplateInstance | Mapping[str, Any]] | None,
) -> PolicyStage:
    """Compile a connector's ``policyTemplateInstances`` into one stage.

    ``api`` is accepted for symmetry with the other builders (and future checks of
    operation names); ``properties`` may be the parsed ``apiProperties`` or the instances.
    Raises ``InvalidPolicy`` listing every instance that cannot be compiled.
    """
    if properties is None:
        instances: Iterable[Any] = []
    elif isinstance(properties, ApiProperties):
        instances = properties.properties.policy_template_instances or []
    else:
        instances = properties
    return PolicyStage(build_policies(instances))
