"""An environment's network allow list, checked once when saved and turned into a ``NetworkPolicy``.

The runtime refuses loopback, private and link-local destinations by default (the SSRF guard).
An environment admin opens specific ones for the environment's connectors: a self-hosted API on
the LAN, or the tutorial's service on 127.0.0.1. Entries are host names (``api.corp``, or
``*.corp`` for every name under it) or addresses and CIDRs (``127.0.0.1``, ``10.0.0.0/8``).
A name is trusted whatever it resolves to; an address only for itself, so prefer addresses.
"""

from __future__ import annotations

import ipaddress
import re
import weakref
from collections.abc import Iterable, Sequence
from typing import Final

from tether.errors import ValidationFailed
from tether.runtime import DEFAULT_NETWORK_POLICY, NetworkPolicy
from tether.services._read_cache import ReadCache
from tether.store import Connections, Database, EnvironmentSetting, Flow

__all__ = ["check_network_allow", "flow_network_policy", "network_policy"]

MAX_ENTRIES: Final = 200
# A DNS name (RFC 1123 labels), optionally with a leading "*." wildcard.
_HOST = re.compile(r"^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")


def _address(entry: str) -> str | None:
    """The entry as a normalized network (``127.0.0.1/32``) or None when it is not an address."""
    try:
        return str(ipaddress.ip_network(entry.strip("[]"), strict=False))
    except ValueError:
        return None


def check_network_allow(entries: Iterable[str]) -> tuple[str, ...]:
    """The entries normalized (lower case, addresses as CIDRs, duplicates dropped), in order.

    Raises ``ValidationFailed`` listing every entry that is neither a host name nor an address.
    """
    seen: list[str] = []
    issues: list[dict[str, str]] = []
    for index, raw in enumerate(entries):
        entry = str(raw).strip().lower().rstrip(".")
        network = _address(entry)
        if network is not None:
            entry = network.removesuffix("/32").removesuffix("/128")
        elif not _HOST.match(entry) or len(entry) > 253:
            issues.append(
                {
                    "pointer": f"/network_allow/{index}",
                    "message": f"{raw!r} is not a host name, address or CIDR",
                }
            )
            continue
        if entry not in seen:
            seen.append(entry)
    if len(seen) > MAX_ENTRIES:
        issues.append({"pointer": "/network_allow", "message": f"at most {MAX_ENTRIES} entries"})
    if issues:
        raise ValidationFailed(
            "network_allow: "
            + "; ".join(i["message"] for i in issues)
            + " (examples: 'api.corp', '*.corp', '127.0.0.1', '10.0.0.0/8')",
            issues=issues,
        )
    return tuple(seen)


def network_policy(entries: Sequence[str] | None) -> NetworkPolicy:
    """The runtime's policy for an environment: the default, opened for the listed hosts and CIDRs."""
    if not entries:
        return DEFAULT_NETWORK_POLICY
    cidrs = [entry for entry in entries if _address(entry) is not None]
    hosts = [entry for entry in entries if _address(entry) is None]
    return NetworkPolicy(allow_hosts=hosts, allow_cidrs=cidrs)


# Per database: the policy of each flow's environment, read once and reused until the settings
# (or the flow) change. Every run asks, so a query per run would be a tax on the hot path.
_flow_policies: weakref.WeakKeyDictionary[Database, ReadCache[NetworkPolicy]] = weakref.WeakKeyDictionary()


async def flow_network_policy(db: Database, flow_id: str) -> NetworkPolicy:
    """The network policy of the environment ``flow_id`` belongs to (its Http actions obey it)."""
    cache = _flow_policies.get(db)
    if cache is None:
        tables = (EnvironmentSetting.__tablename__, Flow.__tablename__)
        cache = _flow_policies.setdefault(db, ReadCache(db, tables))

    def read() -> tuple[NetworkPolicy, None]:
        with db.session() as session:
            flow = session.get(Flow, flow_id)
            settings = Connections(session).settings(flow.environment_id) if flow is not None else None
            return network_policy(settings.network_allow if settings else None), None

    return await cache.read_through(flow_id, read)
