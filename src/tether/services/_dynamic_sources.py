"""Power Platform's dynamic inputs, read from a definition: what to call, with what, what to pick.

A connector says "the values of this parameter come from calling ``GetBoards``" with one of five
extensions, in two generations of spelling:

- ``x-ms-dynamic-values``: values; arguments literal or ``{"parameter": name}``; picks with
  ``value-collection``, ``value-path``, ``value-title``.
- ``x-ms-dynamic-list`` (its successor): values; arguments ``{"value": x}`` or
  ``{"parameterReference": "body/a"}``; picks with ``itemsPath``, ``itemValuePath``, ``itemTitlePath``.
- ``x-ms-dynamic-tree``: values to browse; ``open`` lists the roots, ``browse`` a selected node's
  children (``selectedItemValuePath`` arguments); ``itemIsParent`` tells the nodes with children.
- ``x-ms-dynamic-schema``: a JSON Schema at ``value-path`` (arguments as dynamic-values).
- ``x-ms-dynamic-properties`` (its successor): a JSON Schema at ``itemValuePath``.

:class:`DynamicSource` is that sentence compiled once; this module is pure (no call is made
here) so the two halves it leaves to the caller, sending and caching, stay in ``_dynamic.py``.
Paths are JSON pointers without the leading ``/`` (``data/items``); an absent collection path
means the answer itself is the list.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from tether.errors import InputError, ValidationFailed

__all__ = [
    "MISSING",
    "DynamicSource",
    "DynamicValue",
    "dynamic_schema_source",
    "dynamic_value_source",
    "locate",
    "pick",
]

Kind = Literal["values", "list", "tree", "schema", "properties"]
VALUE_EXTENSIONS: Final = (
    "x-ms-dynamic-list",
    "x-ms-dynamic-values",
    "x-ms-dynamic-tree",
)  # successors first
SCHEMA_EXTENSIONS: Final = ("x-ms-dynamic-properties", "x-ms-dynamic-schema")  # the successor first
_KINDS: Final[dict[str, Kind]] = {
    "x-ms-dynamic-values": "values",
    "x-ms-dynamic-list": "list",
    "x-ms-dynamic-schema": "schema",
    "x-ms-dynamic-properties": "properties",
}


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()


@dataclass(frozen=True)
class Reference:
    """An argument taken from another input's value: a name, or a path such as ``body/workflowId``."""

    path: str


@dataclass(frozen=True)
class DynamicValue:
    """One choice for a dynamic input: the value to send and the title to show.

    ``is_parent`` is set for ``x-ms-dynamic-tree`` nodes that can be browsed into.
    """

    value: Any
    title: str
    is_parent: bool | None = None
    full_title: str | None = None


@dataclass(frozen=True)
class DynamicSource:
    """One dynamic extension, compiled: call ``operation_id`` with ``arguments``, pick the result."""

    kind: Kind
    extension: str
    operation_id: str
    arguments: dict[str, Any | Reference] = field(default_factory=dict)
    collection: str | None = None
    value_path: str | None = None
    title_path: str | None = None
    parent_test: tuple[str, Any] | None = None
    full_title_path: str | None = None
    # x-ms-dynamic-tree: the source to call with a selected node, the selected node's fields by argument.
    browse: DynamicSource | None = None
    selected: dict[str, str] = field(default_factory=dict)

    def call_arguments(
        self, given: Mapping[str, Any], selected: Any = MISSING, *, scope: str = ""
    ) -> dict[str, Any]:
        """The arguments for the call, references filled from ``given`` (the other inputs' values).

        A reference names an operation input (``board_id``), a path into one (``body/workflowId``),
        or, for an input inside the body, a sibling of it: ``scope`` is where the input sits
        (``body``). ``ValidationFailed`` names every reference still unfilled: a form must ask
        those first.
        """
        out: dict[str, Any] = {}
        missing: list[str] = []
        for name, value in self.arguments.items():
            if isinstance(value, Reference):
                found = pick(given, value.path)
                if found is MISSING:
                    found = given.get(value.path, MISSING)  # flat: {"body/workflowId": ...}
                if found is MISSING and scope:
                    found = pick(given, f"{scope}/{value.path}")
                    if found is MISSING:
                        found = given.get(f"{scope}/{value.path}", MISSING)
                if found is MISSING:
                    missing.append(value.path)
                    continue
                out[name] = found
            else:
                out[name] = value
        for name, path in self.selected.items():
            if selected is MISSING:
                missing.append(f"the selected item ({path})")
                continue
            value = pick(selected, path) if isinstance(selected, Mapping) else selected
            out[name] = selected if value is MISSING else value
        if missing:
            raise ValidationFailed(
                f"'{self.operation_id}' (which {self.extension} calls) needs the value of "
                + ", ".join(repr(m) for m in missing)
                + " first: pass it in 'parameters'.",
                issues=[
                    {"name": m, "message": "needed by a dynamic input", "expected": "a value"}
                    for m in missing
                ],
            )
        return out

    def values(self, answer: Any) -> list[DynamicValue]:
        """The choices in ``answer``; ``ValueError`` says which path does not match it."""
        items = answer if self.collection is None else pick(answer, self.collection)
        if self.collection is None and isinstance(answer, Mapping) and isinstance(answer.get("value"), list):
            items = answer["value"]  # OData's and Power Platform's own lists: {"value": [...]}
        if items is MISSING:
            raise ValueError(
                f"the answer has no '{self.collection}' ({_collection_key(self.kind)}){_keys(answer)}"
            )
        if not isinstance(items, list):
            where = f"'{self.collection}'" if self.collection else "the answer"
            raise ValueError(
                f"{where} is {type(items).__name__}, not the list {_collection_key(self.kind)} names"
            )
        out: list[DynamicValue] = []
        for item in items:
            value = item if self.value_path is None else pick(item, self.value_path)
            if value is MISSING:
                continue
            title = value if self.title_path is None else pick(item, self.title_path)
            full = pick(item, self.full_title_path) if self.full_title_path else MISSING
            out.append(
                DynamicValue(
                    value=value,
                    title=str(value if title is MISSING or title is None else title),
                    is_parent=_is_parent(item, self.parent_test) if self.kind == "tree" else None,
                    full_title=None if full is MISSING else str(full),
                )
            )
        if items and not out:
            raise ValueError(f"no item of the list has '{self.value_path}' (its value path){_keys(items[0])}")
        return out

    def schema(self, answer: Any) -> dict[str, Any]:
        """The JSON Schema in ``answer``; ``ValueError`` when the value path finds none."""
        found = answer if self.value_path is None else pick(answer, self.value_path)
        if found is MISSING:
            raise ValueError(f"the answer has no '{self.value_path}' (its schema path){_keys(answer)}")
        if not isinstance(found, dict):
            raise ValueError(
                f"'{self.value_path}' in the answer is {type(found).__name__}, not a JSON Schema object"
            )
        return found


def dynamic_value_source(schema: Mapping[str, Any], name: str) -> DynamicSource:
    """The values source of an input whose (described) schema is ``schema``; ``InputError`` when none."""
    for extension in VALUE_EXTENSIONS:
        found = schema.get(extension)
        if isinstance(found, dict) and (extension != "x-ms-dynamic-values" or "operationId" in found):
            return _source(extension, found, name)
    raise InputError(
        f"'{name}' has no dynamic values: only inputs with x-ms-dynamic-values, x-ms-dynamic-list or "
        "x-ms-dynamic-tree list choices."
    )


def dynamic_schema_source(schema: Mapping[str, Any], name: str) -> DynamicSource | None:
    """The schema source of an input (None when its schema is static)."""
    for extension in SCHEMA_EXTENSIONS:
        found = schema.get(extension)
        if isinstance(found, dict):
            return _source(extension, found, name)
    return None


def _source(extension: str, raw: dict[str, Any], name: str) -> DynamicSource:
    if extension == "x-ms-dynamic-tree":
        return _tree(raw, name)
    operation_id = raw.get("operationId")
    if not isinstance(operation_id, str) or not operation_id:
        raise InputError(f"'{name}': its {extension} names no operationId, so nothing can be called for it.")
    new = extension in ("x-ms-dynamic-list", "x-ms-dynamic-properties")
    kind = _KINDS[extension]
    arguments = _arguments(raw.get("parameters"), new=new)
    if kind in ("schema", "properties"):
        path = raw.get("itemValuePath" if new else "value-path")
        return DynamicSource(kind, extension, operation_id, arguments, value_path=_path(path))
    return DynamicSource(
        kind,
        extension,
        operation_id,
        arguments,
        collection=_path(raw.get("itemsPath" if new else "value-collection")),
        value_path=_path(raw.get("itemValuePath" if new else "value-path")),
        title_path=_path(raw.get("itemTitlePath" if new else "value-title")),
    )


def _tree(raw: dict[str, Any], name: str) -> DynamicSource:
    def half(part: Any, which: str) -> DynamicSource:
        if not isinstance(part, dict) or not isinstance(part.get("operationId"), str):
            raise InputError(f"'{name}': its x-ms-dynamic-tree has no '{which}' operation to call.")
        plain: dict[str, Any] = {}
        selected: dict[str, str] = {}
        for key, value in (part.get("parameters") or {}).items():
            if isinstance(value, dict) and isinstance(value.get("selectedItemValuePath"), str):
                selected[str(key)] = value["selectedItemValuePath"]
            else:
                plain[str(key)] = value
        return DynamicSource(
            "tree",
            "x-ms-dynamic-tree",
            part["operationId"],
            _arguments(plain, new=True),
            collection=_path(part.get("itemsPath")),
            value_path=_path(part.get("itemValuePath")),
            title_path=_path(part.get("itemTitlePath")),
            parent_test=_parent_test(part.get("itemIsParent")),
            full_title_path=_path(part.get("itemFullTitlePath")),
            selected=selected,
        )

    opened = half(raw.get("open"), "open")
    browse = half(raw["browse"], "browse") if isinstance(raw.get("browse"), dict) else None
    return dataclasses.replace(opened, browse=browse)


def _arguments(raw: Any, *, new: bool) -> dict[str, Any | Reference]:
    out: dict[str, Any | Reference] = {}
    if not isinstance(raw, dict):
        return out
    for name, value in raw.items():
        if isinstance(value, dict) and isinstance(value.get("parameter"), str):
            out[str(name)] = Reference(value["parameter"])
        elif isinstance(value, dict) and isinstance(value.get("parameterReference"), str):
            out[str(name)] = Reference(value["parameterReference"])
        elif isinstance(value, dict) and "value" in value and (new or len(value) == 1):
            out[str(name)] = value["value"]
        else:
            out[str(name)] = value  # x-ms-dynamic-values' literal
    return out


def _path(raw: Any) -> str | None:
    return raw.strip().strip("/") or None if isinstance(raw, str) else None


def pick(document: Any, path: str) -> Any:
    """The value at ``path`` (``a/b/0``; ``a.b`` when no key has the dot) in ``document``, or ``MISSING``."""
    found = _walk(document, path.strip("/").split("/"))
    if found is MISSING and "/" not in path and "." in path:
        found = _walk(document, path.split("."))
    return found


def _walk(document: Any, steps: list[str]) -> Any:
    current = document
    for raw_step in steps:
        step = raw_step.replace("~1", "/").replace("~0", "~")
        if isinstance(current, Mapping) and step in current:
            current = current[step]
        elif isinstance(current, list) and step.isdigit() and int(step) < len(current):
            current = current[int(step)]
        else:
            return MISSING
    return current


def locate(schema: Mapping[str, Any], path: str) -> dict[str, Any] | None:
    """The property schema at ``path`` (``board_id``, ``body/block_reason/reason_id``) in an input schema.

    Array levels are stepped through (``items``), so ``body/documents/id`` finds the id of each
    document. None when there is no such input.
    """
    current: Any = schema
    for step in path.strip("/").split("/"):
        while (
            isinstance(current, Mapping)
            and current.get("type") == "array"
            and isinstance(current.get("items"), dict)
        ):
            current = current["items"]
        props = current.get("properties") if isinstance(current, Mapping) else None
        if not isinstance(props, dict) or not isinstance(props.get(step), dict):
            return None
        current = props[step]
    return current if isinstance(current, dict) else None


_PARENT_TEST = re.compile(r"^\(?\s*([\w./-]+)\s+eq\s+(true|false|'[^']*'|-?\d+)\s*\)?$", re.IGNORECASE)


def _parent_test(raw: Any) -> tuple[str, Any] | None:
    """``itemIsParent``: a field name (truthy ⇒ parent) or an OData test such as ``(is_folder eq true)``."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    found = _PARENT_TEST.match(raw.strip())
    if found is None:
        return (raw.strip().strip("/"), True)
    field_name, literal = found.groups()
    value: Any = literal.lower() == "true" if literal.lower() in ("true", "false") else literal.strip("'")
    if isinstance(value, str) and value.lstrip("-").isdigit() and not literal.startswith("'"):
        value = int(value)
    return (field_name.replace(".", "/"), value)


def _is_parent(item: Any, test: tuple[str, Any] | None) -> bool | None:
    if test is None:
        return None
    found = pick(item, test[0])
    if found is MISSING:
        return False
    return bool(found) if test[1] is True else bool(found == test[1])


def _collection_key(kind: Kind) -> str:
    return "its itemsPath" if kind in ("list", "tree") else "its value-collection"


def _keys(value: Any) -> str:
    if isinstance(value, Mapping):
        return f"; it has {sorted(map(str, value))[:20]}"
    return f"; it is {type(value).__name__}"
