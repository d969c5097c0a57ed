"""Compiled connectors, kept per revision: a call should not re-parse and re-compile a package.

A revision never changes once saved, so (connector id, revision number) is a perfect cache key:
a new revision is a new key, and old ones fall out of the bounded LRU. Compiling happens at most
once per key even when many threads ask at the same moment (one lock per key being built).
The operation matcher for pass-through calls and flows' ``ApiConnection`` actions lives here too:
it is compiled once with the rest.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import unquote

from tether.definition import (
    DEFINITION_FILE,
    PROPERTIES_FILE,
    SCRIPT_FILE,
    Api,
    ApiProperties,
    Operation,
    compile_api,
    parse_api_properties,
    parse_document,
)
from tether.errors import InputError, NotFound
from tether.runtime.policies import PolicyStage, build_policy_stage
from tether.runtime.script import check_script_size
from tether.runtime.soap import SOAP_EXTENSION, SoapStage, build_soap_stage

__all__ = ["DEFAULT_CACHE_SIZE", "CompiledConnector", "ConnectorCache", "compile_connector"]

DEFAULT_CACHE_SIZE: Final = 256


@dataclass(frozen=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    names: tuple[str, ...]
    operation: Operation
    literal: int  # characters outside templates: the more, the more specific


@dataclass(frozen=True)
class CompiledConnector:
    """One connector revision, ready to run: the API, its properties and its stages' parts.

    The script stage is not built here because it needs the process's worker pool; its source
    and operations are.
    """

    connector_id: str
    revision: int
    api: Api
    properties: ApiProperties
    policies: PolicyStage
    script: str | None = None
    script_operations: frozenset[str] | None = None
    soap: SoapStage | None = None
    routes: tuple[_Route, ...] = field(default=(), repr=False)

    def match(self, method: str, path: str) -> tuple[Operation, dict[str, str]]:
        """The operation for ``method`` and ``path`` (relative to the base path), with path values.

        A literal segment beats a template (``/items/latest`` before ``/items/{id}``), as in
        Power Platform; values are percent-decoded once (the runtime encodes them again).
        """
        method = method.upper()
        path = "/" + path.lstrip("/")
        allowed: set[str] = set()
        for route in self.routes:
            found = route.pattern.match(path)
            if found is None:
                continue
            if route.method != method:
                allowed.add(route.method)
                continue
            return route.operation, {n: unquote(v) for n, v in zip(route.names, found.groups(), strict=True)}
        if allowed:
            raise NotFound(
                f"{self.api.name}: {method} is not an operation of {path}; "
                f"it allows {', '.join(sorted(allowed))}",
                detail={"allowed": sorted(allowed)},
            )
        raise NotFound(f"{self.api.name}: no operation matches {method} {path}")


def _routes(api: Api) -> tuple[_Route, ...]:
    routes = []
    for operation in api.operations:
        template = "/" + operation.path.split("?", 1)[0].strip("/")
        names = tuple(re.findall(r"\{([^}]+)\}", template))
        regex = _regex(template)
        literal = len(re.sub(r"\{[^}]+\}", "", template))
        routes.append(_Route(operation.method.upper(), re.compile(f"^{regex}/?$"), names, operation, literal))
    return tuple(sorted(routes, key=lambda r: (-r.literal, len(r.names))))


def _regex(template: str) -> str:
    parts = re.split(r"(\{[^}]+\})", template.rstrip("/") or "")
    return "".join("([^/]+)" if part.startswith("{") else re.escape(part) for part in parts)


def compile_connector(connector_id: str, revision: int, files: Mapping[str, bytes]) -> CompiledConnector:
    """Compile a revision's files; ``InputError`` when the package cannot run (no definition...)."""
    raw = files.get(DEFINITION_FILE)
    if raw is None:
        raise InputError(f"The connector's revision {revision} has no API definition to call.")
    api = compile_api(parse_document(raw, name=DEFINITION_FILE).data, name=DEFINITION_FILE)
    raw_props = files.get(PROPERTIES_FILE)
    data = parse_document(raw_props, name=PROPERTIES_FILE, format="json").data if raw_props else None
    properties = parse_api_properties(data or {"properties": {}}, name=PROPERTIES_FILE)
    script = check_script_size(files[SCRIPT_FILE]) if SCRIPT_FILE in files else None
    operations = properties.properties.script_operations
    has_soap = SOAP_EXTENSION in api.extensions or any(
        SOAP_EXTENSION in op.extensions for op in api.operations
    )
    return CompiledConnector(
        connector_id=connector_id,
        revision=revision,
        api=api,
        properties=properties,
        policies=build_policy_stage(api, properties),
        script=script,
        script_operations=frozenset(operations) if operations else None,
        soap=build_soap_stage(api) if has_soap else None,
        routes=_routes(api),
    )


class ConnectorCache:
    """A thread-safe LRU of compiled revisions, at most ``max_size`` of them."""

    def __init__(self, max_size: int = DEFAULT_CACHE_SIZE) -> None:
        self.max_size = max_size
        self._items: OrderedDict[tuple[str, int], CompiledConnector] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[tuple[str, int], threading.Lock] = {}
        self.compilations = 0  # how many times a revision was compiled (tests and metrics read it)

    def peek(self, connector_id: str, revision: int) -> CompiledConnector | None:
        """The compiled revision if cached (and mark it recently used), else None."""
        key = (connector_id, revision)
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def get(
        self, connector_id: str, revision: int, load: Callable[[], Mapping[str, bytes]]
    ) -> CompiledConnector:
        """The compiled revision; on a miss ``load()`` gives its files and it is compiled once."""
        key = (connector_id, revision)
        found = self.peek(connector_id, revision)
        if found is not None:
            return found
        with self._lock:
            building = self._building.setdefault(key, threading.Lock())
        with building:
            found = self.peek(connector_id, revision)  # another thread may have built it meanwhile
            if found is not None:
                return found
            compiled = compile_connector(connector_id, revision, load())
            with self._lock:
                self.compilations += 1
                self._items[key] = compiled
                while len(self._items) > self.max_size:
                    self._items.popitem(last=False)
                self._building.pop(key, None)
            return compiled
