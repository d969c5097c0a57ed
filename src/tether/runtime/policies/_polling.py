"""``pollingtrigger``: a polling trigger whose cursor lives in query parameters.

``triggerConfig`` maps query parameter names to templates over the last trigger body
(``{"$filter": "modified gt @{triggerBody().value[0].modified}"}``); ``triggerDataPath``
selects the items (``@triggerBody().value``); the special key ``x-ms-triggerConfig-nextLink``
names the next-page property (default ``@odata.nextLink``). The platform keeps the state.

The triggers engine reads the configuration with :func:`polling_trigger` and passes the
last trigger body to the call as the argument :data:`TRIGGER_STATE_ARGUMENT`; the policy
then rewrites those query parameters. A parameter whose references are all missing (first
poll, or an empty last page) is left as the caller set it; constant values always apply.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tether.definition import ApiProperties, PolicyTemplateInstance
from tether.runtime.policies._base import Builder, Policy, PolicyInstance
from tether.runtime.policies._call import TRIGGER_STATE_ARGUMENT, PolicyCall
from tether.runtime.policies._errors import InvalidPolicy
from tether.runtime.policies._expressions import Scope, Template, compile_template
from tether.runtime.policies._paths import JsonPath

__all__ = [
    "BUILDERS",
    "DEFAULT_NEXT_LINK",
    "TRIGGER_STATE_ARGUMENT",
    "PollingTrigger",
    "PollingTriggerPolicy",
    "polling_trigger",
]

DEFAULT_NEXT_LINK = "@odata.nextLink"
_NEXT_LINK_KEY = "x-ms-triggerConfig-nextLink"


@dataclass(frozen=True)
class PollingTrigger:
    """The compiled ``triggerConfig`` and ``triggerDataPath`` of one polling operation."""

    query: Mapping[str, Template] = field(default_factory=dict)
    data_path: JsonPath = field(default_factory=lambda: JsonPath("triggerBody"))
    next_link_name: str = DEFAULT_NEXT_LINK

    @classmethod
    def from_instance(cls, instance: PolicyInstance) -> PollingTrigger:
        """Compile the parameters of a ``pollingtrigger`` instance."""
        config = instance.required("triggerConfig")
        if not isinstance(config, Mapping):
            raise InvalidPolicy(
                f"policy {instance.title!r}: triggerConfig must be an object of query parameters"
            )
        query = {
            str(name): instance._wrap(f"triggerConfig.{name}", compile_template, value)
            for name, value in config.items()
            if name and name != _NEXT_LINK_KEY
        }
        data_path = instance.path("triggerDataPath")
        return cls(query, data_path, str(config.get(_NEXT_LINK_KEY) or DEFAULT_NEXT_LINK))

    def query_parameters(self, last_body: Any) -> dict[str, str]:
        """The query parameters to send, given the last trigger body (None before the first poll)."""
        scope = Scope(trigger_body=last_body)
        values: dict[str, str] = {}
        for name, template in self.query.items():
            references = [part for part in template.parts if not isinstance(part, str)]
            if references and all(ref.evaluate(scope) is None for ref in references):
                continue
            values[name] = template.render(scope)
        return values

    def items(self, body: Any) -> list[Any]:
        """The items of one poll's response body (empty when the path finds no array)."""
        found = self.data_path.get(Scope(body=body, trigger_body=body, item=body))
        return found if isinstance(found, list) else []

    def next_link(self, body: Any) -> str | None:
        """The next-page link of a response body, if any."""
        value = body.get(self.next_link_name) if isinstance(body, Mapping) else None
        return value if isinstance(value, str) and value else None


def polling_trigger(
    properties: ApiProperties | Iterable[PolicyTemplateInstance | Mapping[str, Any]], operation_id: str
) -> PollingTrigger | None:
    """The ``pollingtrigger`` configuration of ``operation_id``, or None when it has none."""
    instances = (
        properties.properties.policy_template_instances or []
        if isinstance(properties, ApiProperties)
        else properties
    )
    for raw in instances:
        instance = PolicyInstance.parse(raw)
        if instance.template_id.lower() == "pollingtrigger" and (
            instance.operations is None or operation_id in instance.operations
        ):
            return PollingTrigger.from_instance(instance)
    return None


class PollingTriggerPolicy(Policy):
    """Rewrite the cursor query parameters from the last trigger body."""

    def __init__(self, instance: PolicyInstance) -> None:
        super().__init__(instance)
        self.trigger = PollingTrigger.from_instance(instance)

    async def apply(self, call: PolicyCall) -> None:
        values = self.trigger.query_parameters(call.scope.trigger_body)
        if not values:
            return
        call.query = [(name, value) for name, value in call.query if name not in values]
        call.query.extend(values.items())
        call.request_changed()


BUILDERS: dict[str, Builder] = {"pollingtrigger": PollingTriggerPolicy}
