"""Reading a Postman collection (v2.0 or v2.1) into a flat list of requests.

The two schema versions differ in small ways that every later step would otherwise have to
know about: auth settings are an object in v2.0 and a key/value list in v2.1, descriptions
may be a string or ``{content, type}``, form fields say ``enabled`` or ``disabled``, and a
URL may be a string or an object. This module hides those differences once, and resolves
what Postman resolves by nesting: folder paths (for tags and report locations) and
inherited auth (request, else nearest folder, else collection).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from tether.definition import parse_document
from tether.errors import InputError

__all__ = ["Collection", "PostmanRequest", "description_of", "enabled", "key_values", "read_collection"]

_SCHEMA_HOST = "schema.getpostman.com"
_SUPPORTED = {"v2.0.0": "2.0", "v2.1.0": "2.1"}


@dataclass(frozen=True)
class PostmanRequest:
    """One request of the collection with what it inherits from its folders.

    ``folders`` are the names of the enclosing folders, outermost first; ``auth`` is the
    auth in effect (``None`` when nothing applies or ``noauth`` was chosen) and
    ``auth_where`` names where it was declared, for the report.
    """

    name: str
    folders: tuple[str, ...]
    request: dict[str, Any]
    responses: list[dict[str, Any]]
    auth: dict[str, Any] | None
    auth_where: str

    @property
    def where(self) -> str:
        """The item path users see in Postman, e.g. ``Folder A / Request B``."""
        return " / ".join((*self.folders, self.name))


@dataclass
class Collection:
    """A parsed collection: its info, variables, folders and requests in document order."""

    name: str
    version: str
    description: str
    variables: dict[str, str]
    requests: list[PostmanRequest]
    folders: dict[tuple[str, ...], str] = field(default_factory=dict)
    scripts: list[str] = field(default_factory=list)


def read_collection(source: bytes, *, name: str) -> Collection:
    """Parse and check ``source``; raise a clear ``InputError`` unless it is a v2.0/v2.1 collection."""
    data = parse_document(source, name=name, format="json").data
    hint = f"{name}: not a Postman collection v2.0/v2.1"
    if not isinstance(data, dict):
        raise InputError(f"{hint}: the file must hold a JSON object")
    info = data.get("info")
    if not isinstance(info, dict):
        if "requests" in data or "order" in data:
            raise InputError(f"{hint}: this is a v1 collection; open it in Postman and export it as v2.1")
        raise InputError(f"{hint}: it has no `info` object (export the collection from Postman as v2.1)")
    version = _version(info.get("schema"))
    if version is None:
        raise InputError(
            f"{hint}: `info.schema` is {info.get('schema')!r}; export the collection from Postman as v2.1"
        )
    items = data.get("item")
    if not isinstance(items, list):
        raise InputError(f"{hint}: `item` must be a list of requests and folders")
    collection = Collection(
        name=str(info.get("name") or "").strip() or "Postman collection",
        version=version,
        description=description_of(info.get("description")),
        variables=_variables(data.get("variable", data.get("variables"))),
        requests=[],
    )
    root_auth = _auth(data.get("auth"))
    if _has_script(data):
        collection.scripts.append("collection")
    collection.requests = list(_walk(items, (), root_auth, "collection", collection))
    if not collection.requests:
        raise InputError(
            f"{name}: the Postman collection has no request; add one in Postman and export again"
        )
    return collection


def description_of(value: Any) -> str:
    """A description as text: v2.1 allows ``{content, type, version}`` as well as a string."""
    if isinstance(value, dict):
        value = value.get("content")
    return value.strip() if isinstance(value, str) else ""


def enabled(entry: dict[str, Any]) -> bool:
    """Whether a header, query, form or variable entry is on (v2.1 ``disabled``, v2.0 ``enabled``)."""
    if entry.get("disabled") is True:
        return False
    return entry.get("enabled") is not False


def key_values(value: Any) -> list[dict[str, Any]]:
    """Entries of a key/value list, skipping anything that is not an object with a string key."""
    if not isinstance(value, list):
        return []
    return [e for e in value if isinstance(e, dict) and isinstance(e.get("key"), str) and e["key"]]


def _version(schema: Any) -> str | None:
    if not isinstance(schema, str) or _SCHEMA_HOST not in schema:
        return None
    for marker, version in _SUPPORTED.items():
        if f"/{marker}/" in schema:
            return version
    return None


def _variables(value: Any) -> dict[str, str]:
    variables: dict[str, str] = {}
    for entry in value if isinstance(value, list) else []:
        if not isinstance(entry, dict) or entry.get("disabled") is True:
            continue
        key = entry.get("key", entry.get("id"))
        raw = entry.get("value")
        if isinstance(key, str) and key and raw is not None:
            variables[key] = raw if isinstance(raw, str) else json.dumps(raw)
    return variables


def _auth(value: Any) -> dict[str, Any] | None:
    """Normalise an auth object to ``{"type": t, **settings}``; ``None`` means "inherit"."""
    if not isinstance(value, dict) or not isinstance(value.get("type"), str):
        return None
    kind = value["type"]
    settings = value.get(kind)
    flat: dict[str, Any] = {"type": kind}
    if isinstance(settings, dict):  # v2.0
        flat.update(settings)
    else:  # v2.1: [{key, value, type}]
        for entry in settings if isinstance(settings, list) else []:
            if isinstance(entry, dict) and isinstance(entry.get("key"), str):
                flat[entry["key"]] = entry.get("value")
    return flat


def _has_script(item: dict[str, Any]) -> bool:
    """Whether a collection, folder or request carries a non-empty pre-request or test script."""
    for event in item.get("event") or []:
        script = event.get("script") if isinstance(event, dict) else None
        code = script.get("exec") if isinstance(script, dict) else None
        lines = code if isinstance(code, list) else [code]
        if any(isinstance(line, str) and line.strip() for line in lines):
            return True
    return False


def _walk(
    items: list[Any],
    folders: tuple[str, ...],
    auth: dict[str, Any] | None,
    auth_where: str,
    collection: Collection,
) -> Iterator[PostmanRequest]:
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        name = str(item.get("name") or "").strip() or f"Item {index + 1}"
        if _has_script(item):
            collection.scripts.append(" / ".join((*folders, name)))
        if isinstance(item.get("item"), list):
            path = (*folders, name)
            collection.folders[path] = description_of(item.get("description"))
            own = _auth(item.get("auth"))
            inherited = (own, " / ".join(path)) if own is not None else (auth, auth_where)
            yield from _walk(item["item"], path, inherited[0], inherited[1], collection)
            continue
        request = item.get("request")
        if isinstance(request, str):  # v2.0 allows a bare URL for a GET
            request = {"url": request, "method": "GET"}
        if not isinstance(request, dict):
            continue
        own = _auth(request.get("auth"))
        chosen, where = (own, " / ".join((*folders, name))) if own is not None else (auth, auth_where)
        if chosen is not None and chosen["type"] == "noauth":
            chosen = None
        responses = [r for r in item.get("response") or [] if isinstance(r, dict)]
        yield PostmanRequest(name, folders, request, responses, chosen, where)
