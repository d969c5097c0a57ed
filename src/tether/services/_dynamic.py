"""Dynamic values and schemas resolved through the connection: the use cases behind forms' drop-downs.

    list_dynamic_values ─ prepare the call (the invoke check, credentials, network policy)
                        └ the input's x-ms-dynamic-values / -list / -tree → call its operation
                          through the same connection (policies, script, SSRF guard) → pick the list
    resolve_operation   ─ the same for every x-ms-dynamic-schema / -properties whose inputs are
                          known → the schema merged into the operation's input (and output) schema

The referenced operation runs exactly as an invoke of it would: ``run_operation`` with the
caller's prepared call, so sharing, rate limits and network policy apply. Its answers are kept
briefly per connection (:class:`DynamicCache`), so a form filled field by field calls the API
once per list, not once per keystroke.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import json
from collections.abc import Mapping
from typing import Any, Final

from tether.errors import InputError, NotFound
from tether.runtime import ArgumentError, UpstreamError
from tether.secrets import KeyRing
from tether.services._access import Principal
from tether.services._connection_call import PreparedCall, prepare_call
from tether.services._connector_runner import ConnectorRunner
from tether.services._dynamic_sources import (
    MISSING,
    DynamicSource,
    DynamicValue,
    dynamic_schema_source,
    dynamic_value_source,
    locate,
)
from tether.services._invoke import run_operation
from tether.services._operation_schemas import DYNAMIC_EXTENSIONS, json_schema
from tether.services._operations import OperationInfo, described_operation
from tether.store import Database

__all__ = ["DynamicValuesFailed", "list_dynamic_values", "resolve_operation"]

# Characters of the upstream's error body quoted in a message: enough to see why, never a page.
_QUOTED: Final = 300
# Nesting levels searched for dynamic schemas in an input schema (bodies nest them in properties).
_MAX_DEPTH: Final = 8


class DynamicValuesFailed(UpstreamError):
    """The operation behind a dynamic input failed, or answered in a shape its definition does not say."""

    code = "dynamic-values-failed"


async def list_dynamic_values(
    db: Database,
    principal: Principal,
    environment: str | None,
    connection: str,
    operation_id: str,
    parameter: str,
    values: Mapping[str, Any] | None = None,
    *,
    keyring: KeyRing,
    runtime: ConnectorRunner,
    selected: Any = MISSING,
) -> list[DynamicValue]:
    """The choices for ``parameter`` of ``operation_id`` (``body/a/b`` for a body property).

    ``values`` are the other inputs' values the extension refers to. For ``x-ms-dynamic-tree``,
    ``selected`` (a node, or its value) lists that node's children instead of the roots.
    Raises ``ValidationFailed`` when a referenced value is missing and :class:`DynamicValuesFailed`
    when the call fails or its answer lacks the declared collection or value path.
    """
    call = await prepare_call(db, principal, environment, connection, keyring=keyring, runtime=runtime)
    # Describing a big connector the first time takes up to ~0.2 s of CPU: not on the event loop.
    info = await asyncio.to_thread(described_operation, call.compiled, runtime, operation_id, connection)
    schema = locate(info.input_schema, parameter)
    if schema is None:
        inputs = sorted(info.input_schema.get("properties", {}))
        raise NotFound(f"Operation {operation_id!r} has no input {parameter!r}; its inputs are {inputs}.")
    source = dynamic_value_source(schema, parameter)
    if selected is not MISSING and source.kind == "tree":
        if source.browse is None:
            raise InputError(f"{parameter!r}'s x-ms-dynamic-tree has no 'browse' operation to list children.")
        source = source.browse
    scope = parameter.strip("/").rpartition("/")[0]
    arguments = source.call_arguments(values or {}, selected, scope=scope)
    answer = await _answer(db, call, source, arguments, runtime, parameter)
    try:
        return source.values(answer)
    except ValueError as exc:
        raise DynamicValuesFailed(
            f"The values of {parameter!r} could not be read from '{source.operation_id}': {exc}."
        ) from None


async def resolve_operation(
    db: Database,
    principal: Principal,
    environment: str | None,
    connection: str,
    operation_id: str,
    values: Mapping[str, Any],
    *,
    keyring: KeyRing,
    runtime: ConnectorRunner,
) -> OperationInfo:
    """``operation_id`` described with its dynamic schemas resolved for ``values``.

    Every ``x-ms-dynamic-schema`` / ``-properties`` in the input and output schemas whose
    referenced inputs are all in ``values`` is fetched and merged in place of the declared
    (usually empty) schema; those still waiting for a value are left as declared.
    """
    call = await prepare_call(db, principal, environment, connection, keyring=keyring, runtime=runtime)
    # Describing a big connector the first time takes up to ~0.2 s of CPU: not on the event loop.
    info = await asyncio.to_thread(described_operation, call.compiled, runtime, operation_id, connection)
    merger = _Merger(db, call, runtime, values)
    inputs = await merger.merge(copy.deepcopy(info.input_schema), "", 0)
    output = info.output_schema
    if output is not None:
        output = await merger.merge(copy.deepcopy(output), "(output)", 0)
    return dataclasses.replace(info, input_schema=inputs, output_schema=output)


class _Merger:
    def __init__(self, db: Database, call: PreparedCall, runtime: ConnectorRunner, values: Mapping[str, Any]):
        self.db, self.call, self.runtime, self.values = db, call, runtime, values

    async def merge(self, schema: dict[str, Any], where: str, depth: int) -> dict[str, Any]:
        source = dynamic_schema_source(schema, where or "the input")
        if source is not None:
            try:
                arguments = source.call_arguments(self.values, scope=where.rpartition("/")[0])
            except InputError:
                return schema  # waits for a value the caller has not given yet
            answer = await _answer(self.db, self.call, source, arguments, self.runtime, where)
            try:
                found = source.schema(answer)
            except ValueError as exc:
                raise DynamicValuesFailed(
                    f"The schema of {where!r} could not be read from '{source.operation_id}': {exc}."
                ) from None
            return _merged(schema, json_schema(found))
        if depth >= _MAX_DEPTH:
            return schema
        props = schema.get("properties")
        if isinstance(props, dict):
            for name, sub in props.items():
                if isinstance(sub, dict):
                    props[name] = await self.merge(sub, f"{where}/{name}".lstrip("/"), depth + 1)
        items = schema.get("items")
        if isinstance(items, dict):
            schema["items"] = await self.merge(items, where, depth + 1)
        return schema


def _merged(declared: dict[str, Any], found: dict[str, Any]) -> dict[str, Any]:
    """The fetched schema, keeping what the definition said about the input (title, description...)."""
    out = {k: v for k, v in declared.items() if k not in DYNAMIC_EXTENSIONS}
    props = {**(out.get("properties") or {}), **(found.get("properties") or {})}
    out.update({k: v for k, v in found.items() if k not in ("title", "description") or k not in out})
    if props:
        out["properties"] = props
    return out


async def _answer(
    db: Database,
    call: PreparedCall,
    source: DynamicSource,
    arguments: dict[str, Any],
    runtime: ConnectorRunner,
    name: str,
) -> Any:
    """The body ``source``'s operation answers with ``arguments``, from the cache while fresh."""
    key = runtime.dynamic.key(call.connection_id, call.compiled.revision, source.operation_id, arguments)
    fresh, body = runtime.dynamic.get(key)
    if fresh:
        return body
    what = f"'{source.operation_id}' (the {source.extension} of {name!r})"
    try:
        answer = await run_operation(db, call, source.operation_id, arguments, runtime=runtime)
    except NotFound as exc:
        raise DynamicValuesFailed(f"{what} cannot be called: {exc.message}") from exc
    except ArgumentError as exc:
        raise DynamicValuesFailed(f"{what} cannot be called with {sorted(arguments)}: {exc.message}") from exc
    if not 200 <= answer.status < 300:
        body_text = _quoted(answer.body)
        raise DynamicValuesFailed(
            f"{what} answered {answer.status}: {body_text[:_QUOTED]}",
            detail={"operation_id": source.operation_id, "upstream_status": answer.status},
        )
    runtime.dynamic.put(key, answer.body)
    return answer.body


def _quoted(body: Any) -> str:
    if isinstance(body, bytes):
        return f"<{len(body)} bytes>"
    return body if isinstance(body, str) else json.dumps(body, default=str)
