"""What the connector list shows about each connector beyond its name: description, auth type,
brand colour, icon presence and operation count, read from the revision's files.

Revisions are immutable, so a summary is cached per ``(connector id, revision number)`` for the
life of the process: a list of a thousand connectors reads each package once, not per request.
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from dataclasses import dataclass
from threading import Lock
from typing import Any

from tether.definition import DEFINITION_FILE, ICON_FILE, PROPERTIES_FILE

__all__ = ["AUTH_LABELS", "ConnectorSummary", "SummaryCache", "summarize"]

AUTH_LABELS = {"none": "No authentication", "apiKey": "API key", "basic": "Basic", "oauth2": "OAuth 2.0"}
DEFAULT_COLOR = "#5c6370"
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}
MAX_CACHED = 20_000
# Swagger 2's security types and OpenAPI 3's ("http" covers basic) on the list's vocabulary.
_AUTH_KIND = {"http": "basic"}


@dataclass(frozen=True, slots=True)
class ConnectorSummary:
    """The list's facts about one revision; ``readable`` is False when the caller may not read files."""

    description: str
    auth_types: tuple[str, ...]
    color: str
    has_icon: bool
    operations: int
    readable: bool = True

    @property
    def auth_label(self) -> str:
        return ", ".join(AUTH_LABELS.get(t, t) for t in self.auth_types)


UNREADABLE = ConnectorSummary(
    description="", auth_types=(), color=DEFAULT_COLOR, has_icon=False, operations=0, readable=False
)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _json(raw: bytes | None) -> dict[str, Any]:
    if raw is None:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def summarize(files: dict[str, bytes]) -> ConnectorSummary:
    """The summary of a package's files (lenient: a broken file gives an empty field, never an error)."""
    definition = _json(files.get(DEFINITION_FILE))
    properties = _json(files.get(PROPERTIES_FILE)).get("properties")
    properties = properties if isinstance(properties, dict) else {}
    info = _dict(definition.get("info"))
    schemes = _dict(
        definition.get("securityDefinitions") or _dict(definition.get("components")).get("securitySchemes")
    )
    kinds = {str(s.get("type")) for s in schemes.values() if isinstance(s, dict)}
    types = sorted(_AUTH_KIND.get(kind, kind) for kind in kinds)
    color = properties.get("iconBrandColor")
    operations = sum(
        1
        for item in _dict(definition.get("paths")).values()
        if isinstance(item, dict)
        for method in item
        if str(method).lower() in _METHODS
    )
    return ConnectorSummary(
        description=str(info.get("description") or "")[:300],
        auth_types=tuple(dict.fromkeys(types)) or ("none",),
        color=color if isinstance(color, str) and _COLOR.match(color) else DEFAULT_COLOR,
        has_icon=ICON_FILE in files,
        operations=operations,
    )


class SummaryCache:
    """Summaries by ``(connector id, revision)``, least recently used dropped past :data:`MAX_CACHED`."""

    def __init__(self, limit: int = MAX_CACHED) -> None:
        self._items: OrderedDict[tuple[str, int], ConnectorSummary] = OrderedDict()
        self._limit = limit
        self._lock = Lock()

    def get(self, key: tuple[str, int]) -> ConnectorSummary | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple[str, int], summary: ConnectorSummary) -> None:
        with self._lock:
            self._items[key] = summary
            self._items.move_to_end(key)
            while len(self._items) > self._limit:
                self._items.popitem(last=False)
