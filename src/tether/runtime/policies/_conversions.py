"""Reshaping collections: ``convertobjecttoarray``, ``convertarraytoobject``, ``stringtoarray``.

The value at ``propertyParentPath``/``propertySubPath`` (``null`` = the parent itself; an
array parent is shaped element by element, bound as ``@item()``) is converted and written
to ``newPropertyPath``; the source stays unless the new path is the same place.

* ``convertobjecttoarray``: ``{"k": v}`` ⇒ ``[{keyName: "k", valueName: v}]`` (defaults
  ``key`` and ``value``).
* ``convertarraytoobject``: ``[{id: "k", ...}]`` ⇒ ``{"k": {...}}`` keyed by the member at
  ``keyWithinCollectionPath``; ``retainKey`` (default true) keeps that member in the value.
  Elements without a key are dropped.
* ``stringtoarray``: ``"a;b"`` ⇒ ``[{childPropertyName: "a"}, {childPropertyName: "b"}]``,
  split at every character of ``delimiterList``; parts are trimmed and empty ones dropped.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from tether.runtime.policies._base import Builder, Policy, PolicyInstance, each_item
from tether.runtime.policies._call import PolicyCall
from tether.runtime.policies._expressions import render_value, walk
from tether.runtime.policies._paths import compile_subpath

__all__ = ["BUILDERS", "ConvertArrayToObject", "ConvertObjectToArray", "StringToArray"]


class _Conversion(Policy):
    accepts: type | tuple[type, ...] = object

    def __init__(self, instance: PolicyInstance) -> None:
        super().__init__(instance)
        self.parent = instance.path("propertyParentPath")
        self.sub = instance.subpath("propertySubPath")
        self.new_path = instance.path("newPropertyPath")

    def convert(self, value: Any) -> Any:
        raise NotImplementedError

    async def apply(self, call: PolicyCall) -> None:
        for element in each_item(call, self.parent):
            value = walk(element, self.sub)
            if isinstance(value, self.accepts):
                self.new_path.set(call.scope, self.convert(value))
                call.body_changed()


class ConvertObjectToArray(_Conversion):
    """An object's members as an array of ``{key, value}`` objects."""

    accepts = dict

    def __init__(self, instance: PolicyInstance) -> None:
        super().__init__(instance)
        self.key_name = str(instance.parameters.get("keyName") or "key")
        self.value_name = str(instance.parameters.get("valueName") or "value")

    def convert(self, value: Any) -> Any:
        return [{self.key_name: key, self.value_name: member} for key, member in value.items()]


class ConvertArrayToObject(_Conversion):
    """An array of objects as one object keyed by a member of each."""

    accepts = list

    def __init__(self, instance: PolicyInstance) -> None:
        super().__init__(instance)
        self.key_path = compile_subpath(instance.required("keyWithinCollectionPath"))
        self.retain_key = instance.flag("retainKey", True)

    def convert(self, value: Any) -> Any:
        result: dict[str, Any] = {}
        for element in value:
            key = walk(element, self.key_path)
            if key is None:
                continue
            if not self.retain_key and isinstance(element, dict) and len(self.key_path) == 1:
                element = {k: v for k, v in element.items() if k != self.key_path[0]}
            result[render_value(key)] = copy.copy(element)
        return result


class StringToArray(_Conversion):
    """A delimited string as an array of one-member objects."""

    accepts = str

    def __init__(self, instance: PolicyInstance) -> None:
        super().__init__(instance)
        delimiters = str(instance.required("delimiterList"))
        self.split = re.compile("[" + re.escape(delimiters) + "]") if delimiters else None
        self.child = str(instance.required("childPropertyName"))

    def convert(self, value: Any) -> Any:
        parts = self.split.split(value) if self.split else [value]
        return [{self.child: part.strip()} for part in parts if part.strip()]


BUILDERS: dict[str, Builder] = {
    "convertobjecttoarray": ConvertObjectToArray,
    "convertarraytoobject": ConvertArrayToObject,
    "stringtoarray": StringToArray,
}
