"""A run's :class:`RunPrivacy`: its secret values and whether its environment seals run data.

Read once per run by whoever advances it (embedded server or Celery worker), from the values the
engine is about to use: the unsealed secure parameters, the trigger's secret headers, and the
secret parameters of the connections the flow maps.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping
from typing import Any

from tether.flows.engine import REDACTED, redact_headers
from tether.secrets import KeyRing
from tether.services._read_cache import ReadCache
from tether.services._run_secrets import RunPrivacy, secret_strings, secure_parameter_names
from tether.store import Connections, Database, EnvironmentSetting, Flow

__all__ = ["environment_seals_runs", "flow_seals_runs", "run_privacy", "trigger_secrets"]

_flow_settings: weakref.WeakKeyDictionary[Database, ReadCache[bool]] = weakref.WeakKeyDictionary()


def environment_seals_runs(session: Any, environment_id: str) -> bool:
    """Whether the environment's ``encrypt_run_data`` is on (inside an open session)."""
    found = Connections(session).settings(environment_id)
    return bool(found is not None and found.encrypt_run_data)


async def flow_seals_runs(db: Database, flow_id: str) -> bool:
    """:func:`environment_seals_runs` for a flow's environment, cached like its network policy."""
    cache = _flow_settings.get(db)
    if cache is None:
        tables = (EnvironmentSetting.__tablename__, Flow.__tablename__)
        cache = _flow_settings.setdefault(db, ReadCache(db, tables))

    def read() -> tuple[bool, None]:
        with db.session() as session:
            flow = session.get(Flow, flow_id)
            return (environment_seals_runs(session, flow.environment_id) if flow is not None else False), None

    return await cache.read_through(flow_id, read)


def trigger_secrets(trigger: Mapping[str, Any]) -> set[str]:
    """The values of the trigger's secret headers (``x-api-key``, ``Authorization``…)."""
    outputs = trigger.get("outputs")
    headers = outputs.get("headers") if isinstance(outputs, Mapping) else None
    if not isinstance(headers, Mapping):
        return set()
    shown = redact_headers({"headers": headers})["headers"]
    found: set[str] = set()
    for name, value in headers.items():
        if shown.get(name) == REDACTED and isinstance(value, str):
            found |= secret_strings(value)
            scheme, _, credential = value.partition(" ")  # "Bearer abc…": the credential alone too
            if credential and scheme.isalpha():
                found |= secret_strings(credential)
    return found


def parameter_secrets(definition: Mapping[str, Any], parameters: Mapping[str, Any]) -> set[str]:
    """The string values of the run's SecureString/SecureObject parameters."""
    found: set[str] = set()
    for name in secure_parameter_names(definition):
        found |= secret_strings(parameters.get(name))
    return found


def connection_ids(parameters: Mapping[str, Any]) -> list[str]:
    """The Tether connection ids the run's ``$connections`` parameter maps."""
    mapped = parameters.get("$connections")
    if not isinstance(mapped, Mapping):
        return []
    ids = []
    for entry in mapped.values():
        if isinstance(entry, Mapping) and isinstance(entry.get("connectionId"), str):
            ids.append(entry["connectionId"])
    return ids


async def run_privacy(
    db: Database,
    flow_id: str,
    *,
    definition: Mapping[str, Any],
    trigger: Mapping[str, Any],
    parameters: Mapping[str, Any],
    keyring: KeyRing | None,
    connectors: Any = None,
    extra: Iterable[str] = (),
) -> RunPrivacy:
    """What the run's journal must hide. ``connectors``: the engine's connector caller, when it can
    tell the secret values of connections (``secret_values``); ``extra``: other secret values (the
    environment's secure variables)."""
    secrets = trigger_secrets(trigger) | parameter_secrets(definition, parameters)
    for value in extra:
        secrets |= secret_strings(value)
    lookup = getattr(connectors, "secret_values", None)
    ids = connection_ids(parameters)
    if lookup is not None and ids:
        secrets |= await lookup(ids)
    encrypt = await flow_seals_runs(db, flow_id)
    return RunPrivacy(frozenset(secrets), encrypt=encrypt, keyring=keyring)
