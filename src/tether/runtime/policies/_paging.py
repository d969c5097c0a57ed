"""``updatenextlink``: make a response's next-page link usable by Tether's pagination.

Power Platform rewrites the link so that the next page is fetched through the connector
again. Tether's pagination already follows next links through the same connection and
pipeline, so what is left to do is: resolve a relative link against the request URL
(``/items?page=2`` ⇒ ``https://api.example.com/items?page=2``), and, when the operation's
``x-ms-pageable`` names the link differently from ``nextLinkPropertyName`` (Almabase
declares ``nextlink`` but the API answers ``nextLink``), copy it to that name too.
``nextLinkParentPropertyPath`` (optional) names the object holding the link.
"""

from __future__ import annotations

from tether.runtime.policies._base import Builder, Policy, PolicyInstance
from tether.runtime.policies._call import PolicyCall, Section
from tether.runtime.policies._paths import JsonPath

__all__ = ["BUILDERS", "UpdateNextLink"]


class UpdateNextLink(Policy):
    """Resolve the next link of a response against the request URL."""

    default_section: Section = "Response"

    def __init__(self, instance: PolicyInstance) -> None:
        super().__init__(instance)
        self.name = str(instance.required("nextLinkPropertyName"))
        parent = instance.parameters.get("nextLinkParentPropertyPath")
        self.parent = instance.path("nextLinkParentPropertyPath") if parent else JsonPath("body")

    async def apply(self, call: PolicyCall) -> None:
        call.load_body()
        holder = self.parent.get(call.scope)
        if (
            not isinstance(holder, dict)
            or not isinstance(holder.get(self.name), str)
            or call.response is None
        ):
            return
        link = str(call.response.request.url.join(holder[self.name])) if holder[self.name] else ""
        holder[self.name] = link
        pageable = call.exchange.operation.next_link_name
        if pageable and pageable != self.name and link:
            holder[pageable] = link
        call.body_changed()


BUILDERS: dict[str, Builder] = {"updatenextlink": UpdateNextLink}
