"""Where a connector sends its users' credentials: the facts a change to which must be reviewed.

A connector revision decides the host, base path and schemes its calls go to, the OAuth URLs that
receive client secrets and refresh tokens, and policies that rewrite the destination
(``dynamichosturl``, ``dynamicsubdomain``, ``routerequesttoendpoint``, ``setconnectionurl``…).
Comparing these facts between two revisions tells an update that only edits descriptions from one
that could send API keys to a new server: the latter is recorded in the audit log and shown to the
connector's other owners (``tether connector access``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from tether.definition import DEFINITION_FILE, PROPERTIES_FILE, parse_document
from tether.errors import TetherError

__all__ = ["destination_changes", "destination_facts"]

# Policy templates whose job is to change where a request goes.
ROUTING_TEMPLATES: Final = frozenset(
    {"dynamichosturl", "dynamicsubdomain", "routerequesttoendpoint", "setconnectionurl", "updatenextlink"}
)
# Keys of an identity provider's OAuth parameters that name a URL credentials are sent to.
_URL_KEYS: Final = frozenset(
    {
        "authorizationUrl",
        "tokenUrl",
        "refreshUrl",
        "authorizationUrlTemplate",
        "tokenUrlTemplate",
        "refreshUrlTemplate",
        "resourceUri",
        "loginUri",
        "tenantId",
        "instance",
    }
)


def _read(files: Mapping[str, bytes], name: str) -> Any:
    raw = files.get(name)
    if raw is None:
        return None
    try:
        return parse_document(raw, name=name).data
    except TetherError:
        return None  # an unreadable file is the validator's business; it has no destination to compare


def _oauth_urls(value: Any, found: dict[str, str], path: str = "") -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}/{key}"
            if key in _URL_KEYS and isinstance(item, str):
                found[where] = item
            else:
                _oauth_urls(item, found, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _oauth_urls(item, found, f"{path}/{index}")


def destination_facts(files: Mapping[str, bytes]) -> dict[str, str]:
    """Flat facts (name → text) describing where this package's requests and credentials go."""
    facts: dict[str, str] = {}
    definition = _read(files, DEFINITION_FILE)
    if isinstance(definition, dict):
        for key in ("host", "basePath", "schemes", "servers"):
            if key in definition:
                facts[key] = json.dumps(definition[key], sort_keys=True)
    properties = _read(files, PROPERTIES_FILE)
    props = properties.get("properties") if isinstance(properties, dict) else None
    if isinstance(props, dict):
        urls: dict[str, str] = {}
        _oauth_urls(props.get("connectionParameters"), urls, "connectionParameters")
        _oauth_urls(props.get("connectionParameterSets"), urls, "connectionParameterSets")
        facts.update(urls)
        routing = [
            instance
            for instance in props.get("policyTemplateInstances") or []
            if isinstance(instance, dict) and str(instance.get("templateId", "")).lower() in ROUTING_TEMPLATES
        ]
        if routing:
            facts["policyTemplateInstances(routing)"] = json.dumps(routing, sort_keys=True)
    return facts


def destination_changes(before: Mapping[str, bytes], after: Mapping[str, bytes]) -> dict[str, dict[str, Any]]:
    """The destination facts that differ: ``{fact: {"before": …, "after": …}}`` (empty: none)."""
    old, new = destination_facts(before), destination_facts(after)
    return {
        key: {"before": old.get(key), "after": new.get(key)}
        for key in sorted(old.keys() | new.keys())
        if old.get(key) != new.get(key)
    }
