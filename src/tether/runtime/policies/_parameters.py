"""``setheader`` and ``setqueryparameter``: set one name to a template's value.

``existsAction`` says what happens when the name is already there: ``override`` (the
default) replaces every value, ``skip`` keeps the existing one, ``append`` adds a value.
Headers are set on the request, or on the response in the Response and Failure sections.
Query parameter names are URL-decoded (one connector writes ``%24top`` for ``$top``).
"""

from __future__ import annotations

from urllib.parse import unquote

import httpx

from tether.runtime.policies._base import Builder, Policy, PolicyInstance
from tether.runtime.policies._call import PolicyCall
from tether.runtime.policies._errors import InvalidPolicy

__all__ = ["BUILDERS", "SetHeader", "SetQueryParameter"]

EXISTS_ACTIONS = ("override", "skip", "append")


class _SetNamed(Policy):
    def __init__(self, instance: PolicyInstance) -> None:
        super().__init__(instance)
        self.name = str(instance.required("name"))
        self.value = instance.template("value")
        action = str(instance.parameters.get("existsAction") or "override").strip().lower()
        if action not in EXISTS_ACTIONS:
            raise InvalidPolicy(
                f"policy {self.title!r}: existsAction {action!r} is not one of {EXISTS_ACTIONS}"
            )
        self.exists_action = action


class SetHeader(_SetNamed):
    """Set a header on the request (Request) or on the response (Response, Failure)."""

    async def apply(self, call: PolicyCall) -> None:
        present = self.name in call.headers
        if present and self.exists_action == "skip":
            return
        value = self.value.render(call.scope)
        if present and self.exists_action == "append":
            call.headers = httpx.Headers([*call.headers.multi_items(), (self.name, value)])
        else:
            call.headers[self.name] = value
        call.request_changed()


class SetQueryParameter(_SetNamed):
    """Set a query parameter of the request."""

    def __init__(self, instance: PolicyInstance) -> None:
        super().__init__(instance)
        self.name = unquote(self.name)

    async def apply(self, call: PolicyCall) -> None:
        present = any(name == self.name for name, _ in call.query)
        if present and self.exists_action == "skip":
            return
        value = self.value.render(call.scope)
        if not (present and self.exists_action == "append"):
            call.query = [(name, v) for name, v in call.query if name != self.name]
        call.query.append((self.name, value))
        call.request_changed()


BUILDERS: dict[str, Builder] = {"setheader": SetHeader, "setqueryparameter": SetQueryParameter}
