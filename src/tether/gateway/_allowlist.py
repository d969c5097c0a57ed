"""The agent's allowlist: the hosts and ports inside the private network its admin lets Tether reach.

The server's SSRF guard cannot judge a private address it cannot see, so the agent decides:
nothing is reachable until its admin lists it (``tether gateway run --allow …`` or ``allow`` in
the agent's config file). Entries:

    10.1.2.3            one address, any port
    10.1.2.3:8080       one address, one port
    10.1.0.0/16         a network (``10.1.0.0/16:443`` with a port)
    api.corp.example    one host name (``*.corp.example`` for its subdomains), optionally ``:port``
    [fd00::1]:443       IPv6 in brackets when a port follows
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from tether.errors import InputError

__all__ = ["AllowEntry", "Allowlist"]


@dataclass(frozen=True, slots=True)
class AllowEntry:
    """One allowed destination: a network or a host pattern, and a port or any."""

    network: ipaddress.IPv4Network | ipaddress.IPv6Network | None
    host: str | None
    port: int | None

    def matches(self, host: str, port: int) -> bool:
        if self.port is not None and self.port != port:
            return False
        if self.network is not None:
            try:
                return ipaddress.ip_address(host.strip("[]")) in self.network
            except ValueError:
                return False
        pattern = self.host or ""
        name = host.lower().rstrip(".")
        if pattern.startswith("*."):
            return name.endswith(pattern[1:]) and name != pattern[2:]
        return name == pattern


def parse_entry(text: str) -> AllowEntry:
    """One allowlist entry (see the module docstring); :class:`InputError` names what is wrong."""
    raw = text.strip()
    if not raw:
        raise InputError("an empty allowlist entry; write a host, address or network, optionally ':port'")
    host, port = raw, None
    if raw.startswith("["):
        inside, _, rest = raw[1:].partition("]")
        host = inside
        if rest:
            port = _port(rest.removeprefix(":"), raw)
    elif raw.count(":") == 1:
        host, _, port_text = raw.partition(":")
        port = _port(port_text, raw)
    try:
        network = ipaddress.ip_network(host, strict=False)
    except ValueError:
        network = None
    if network is not None:
        return AllowEntry(network, None, port)
    name = host.lower().rstrip(".")
    if not name or any(c in name for c in "/ @?#"):
        raise InputError(f"allowlist entry {text!r} is not a host, address or network")
    return AllowEntry(None, name, port)


def _port(text: str, entry: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise InputError(f"allowlist entry {entry!r}: the port must be a number from 1 to 65535")
    return int(text)


class Allowlist:
    """The destinations this agent may call; empty allows nothing."""

    def __init__(self, entries: Iterable[str]) -> None:
        self.texts = [e.strip() for e in entries if e.strip()]
        self._entries = [parse_entry(e) for e in self.texts]

    def allows(self, host: str, port: int) -> bool:
        return any(entry.matches(host, port) for entry in self._entries)

    def refusal(self, host: str, port: int) -> str:
        """Why ``host:port`` is refused, and how the gateway's admin opens it."""
        listed = ", ".join(self.texts) or "nothing"
        return (
            f"{host}:{port} is not in this gateway agent's allowlist (it allows {listed}); the gateway's "
            f"admin can add it: 'tether gateway run --allow {host}:{port}' or 'allow' in the agent's config"
        )
