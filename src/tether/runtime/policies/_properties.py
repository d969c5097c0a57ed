"""Body properties: ``setproperty``, ``moveproperties``, ``stringreplace``, ``encodepropertyvalue``.

All work on the JSON body of the current message (request, or response in the Response
section). A parent path naming an array shapes each element, bound as ``@item()``.

* ``setproperty`` sets ``parent[subPath]`` to ``propertyValuePathTemplate``. A value that is
  one reference keeps its JSON type (``{@body().next}``); text that starts with ``[`` or
  ``{`` is JSON with references spliced in as JSON (``[{@body().payments}]`` wraps an object
  in an array; ``["matter.created"]`` is an array); text wrapped in single quotes is a
  string literal without them; other text is a string. When every reference in the value is
  missing, nothing is set (there is nothing to build from). A missing parent is created.
* ``moveproperties`` (not in Microsoft's schema; one use, AzureAD "Move Properties on User
  Update": ``@body().customProperties`` ⇒ ``@body()`` with ``copyOnlySubProperties``) moves
  the value at ``srcParentPath``/``srcSubPath`` to ``dstParentPath``/``dstSubPath``
  (``null`` = the parent itself) and removes it from the source. With
  ``copyOnlySubProperties`` the source object's members are merged into the destination
  object instead of the object itself being placed there.
* ``stringreplace`` replaces every ``sourceString`` by ``replacementString`` in the string at
  ``parent[subPath]`` and writes the result to ``newPropertyPath``.
* ``encodepropertyvalue`` URL-encodes (every reserved character) the string at
  ``parent[subPath]`` and writes it to ``newPropertyPath``.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from tether.runtime.policies._base import Builder, Policy, PolicyInstance, each_item
from tether.runtime.policies._call import PolicyCall
from tether.runtime.policies._expressions import Scope, Template, render_value, walk
from tether.runtime.policies._paths import JsonPath

__all__ = [
    "BUILDERS",
    "EncodePropertyValue",
    "MoveProperties",
    "SetProperty",
    "StringReplace",
    "property_value",
]


class SetProperty(Policy):
    """Set one property of the body (of each element, for an array parent)."""

    def __init__(self, instance: PolicyInstance) -> None:
        super().__init__(instance)
        self.parent = instance.path("newPropertyParentPathTemplate")
        self.sub = instance.subpath("newPropertySubPathTemplate")
        self.value = instance.template("propertyValuePathTemplate")

    async def apply(self, call: PolicyCall) -> None:
        for element in each_item(call, self.parent, create=True):
            value = property_value(self.value, call)
            if value is _NOTHING:
                continue
            if self.sub:
                _set_in(element, self.sub, value)
            else:
                self.parent.set(call.scope, value)
            call.body_changed()


_NOTHING = object()


def property_value(template: Template, call: PolicyCall) -> Any:
    """The value a ``setproperty`` template gives (see the module docstring)."""
    if template.is_constant:
        return _literal(template.source)
    single = template.single
    if single is not None:
        value = single.evaluate(call.scope)
        return _NOTHING if value is None else value
    values = [part.evaluate(call.scope) for part in template.parts if not isinstance(part, str)]
    if all(value is None for value in values):
        return _NOTHING
    text = template.source.strip()
    if text.startswith(("[", "{")):
        spliced = iter(values)
        joined = "".join(
            part if isinstance(part, str) else json.dumps(next(spliced)) for part in template.parts
        )
        try:
            return json.loads(joined)
        except ValueError:
            pass
    rendered = iter(values)
    return _literal(
        "".join(part if isinstance(part, str) else render_value(next(rendered)) for part in template.parts)
    )


def _literal(text: str) -> Any:
    stripped = text.strip()
    if len(stripped) >= 2 and stripped[0] == stripped[-1] == "'":
        return stripped[1:-1]
    if stripped.startswith(("[", "{")):
        try:
            return json.loads(stripped)
        except ValueError:
            return text
    return text


def _set_in(element: Any, steps: tuple[str | int, ...], value: Any) -> None:
    """Set ``element[steps]``, creating objects on the way (``element`` itself stays in place)."""
    JsonPath("item", steps).set(Scope(item=element), value)


class MoveProperties(Policy):
    """Move a property (or merge its members) from one place in the body to another."""

    def __init__(self, instance: PolicyInstance) -> None:
        super().__init__(instance)
        self.source = instance.path("srcParentPath").joined(instance.subpath("srcSubPath"))
        self.target = instance.path("dstParentPath").joined(instance.subpath("dstSubPath"))
        self.members_only = instance.flag("copyOnlySubProperties", False)

    async def apply(self, call: PolicyCall) -> None:
        call.load_body()
        value = self.source.get(call.scope)
        if value is None:
            return
        self.source.delete(call.scope)
        if self.members_only and isinstance(value, dict):
            target = self.target.get(call.scope)
            if not isinstance(target, dict):
                target = {}
                self.target.set(call.scope, target)
            target.update(value)
        else:
            self.target.set(call.scope, value)
        call.body_changed()


class _StringProperty(Policy):
    """A policy that rewrites the string at ``parent[subPath]`` into ``newPropertyPath``."""

    def __init__(self, instance: PolicyInstance) -> None:
        super().__init__(instance)
        self.parent = instance.path("propertyParentPath")
        self.sub = instance.subpath("propertySubPath")
        self.new_path = instance.path("newPropertyPath")

    def convert(self, value: str) -> Any:
        raise NotImplementedError

    async def apply(self, call: PolicyCall) -> None:
        for element in each_item(call, self.parent):
            value = walk(element, self.sub)
            if isinstance(value, str):
                self.new_path.set(call.scope, self.convert(value))
                call.body_changed()


class StringReplace(_StringProperty):
    """Replace every ``sourceString`` with ``replacementString``."""

    def __init__(self, instance: PolicyInstance) -> None:
        super().__init__(instance)
        self.old = str(instance.required("sourceString"))
        self.new = str(instance.required("replacementString"))

    def convert(self, value: str) -> Any:
        return value.replace(self.old, self.new) if self.old else value


class EncodePropertyValue(_StringProperty):
    """URL-encode the value."""

    def convert(self, value: str) -> Any:
        return quote(value, safe="")


BUILDERS: dict[str, Builder] = {
    "setproperty": SetProperty,
    "moveproperties": MoveProperties,
    "stringreplace": StringReplace,
    "encodepropertyvalue": EncodePropertyValue,
}
