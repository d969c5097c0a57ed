"""The SSRF guard: which network addresses a connector may reach.

A connector's host comes from its author, its user or an upstream answer (a redirect, a
``nextLink``, an async ``Location``), so any of them can point Tether at the machine it runs
on, the private network behind it or the cloud metadata service holding its credentials.
The guard refuses those by default and lets an environment opt in (``NetworkPolicy``).

Checking a URL's host name is not enough: a name can resolve to a private address, and a
name the attacker controls can resolve to a public address when checked and a private one
when connected (DNS rebinding). So the check happens where the socket is opened:
``GuardedResolver`` resolves the name once, checks **every** address, and the connection is
opened to a checked address only. Each redirect hop and each new pooled connection goes through it.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp.abc import AbstractResolver, ResolveResult

from tether.runtime._errors import DestinationRefused, UpstreamUnavailable

__all__ = [
    "DEFAULT_NETWORK_POLICY",
    "GuardedResolver",
    "HostResolver",
    "NetworkPolicy",
    "SystemResolver",
    "canonical_host",
    "is_ip",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Cloud instance metadata endpoints (AWS/GCP/Azure/OpenStack, AWS IPv6, AWS ECS, Alibaba).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "169.254.170.2", "100.100.100.200")
)
METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata.goog", "metadata", "instance-data"})
ALLOWED_SCHEMES = frozenset({"http", "https"})


@dataclass(frozen=True)
class NetworkPolicy:
    """Which destinations the runtime may connect to.

    By default only public (globally routable) addresses are allowed. ``allow_hosts``
    (exact names or ``*.suffix``) and ``allow_cidrs`` open specific destinations;
    ``allow_loopback`` and ``allow_private`` open whole classes (tests and the tutorial use
    ``NetworkPolicy(allow_loopback=True)``). Cloud metadata addresses stay refused unless a
    CIDR lists them explicitly. Hashable, so the runtime keeps one connection pool per policy
    (a connection opened under a permissive policy is never reused under a strict one).
    """

    allow_hosts: frozenset[str] = field(default_factory=frozenset)
    allow_cidrs: tuple[IPNetwork, ...] = ()
    allow_loopback: bool = False
    allow_private: bool = False

    def __init__(
        self,
        *,
        allow_hosts: Iterable[str] = (),
        allow_cidrs: Iterable[str | IPNetwork] = (),
        allow_loopback: bool = False,
        allow_private: bool = False,
    ) -> None:
        # Accept loose input (lists, strings), store normalized immutable values.
        object.__setattr__(self, "allow_hosts", frozenset(h.strip().lower().rstrip(".") for h in allow_hosts))
        object.__setattr__(
            self, "allow_cidrs", tuple(ipaddress.ip_network(c, strict=False) for c in allow_cidrs)
        )
        object.__setattr__(self, "allow_loopback", allow_loopback)
        object.__setattr__(self, "allow_private", allow_private)

    def __hash__(self) -> int:
        # Hashed once: a policy is a dict key several times per call (pools, transports, checks).
        # Kept out of pickles and copies (__getstate__): string hashes differ between processes.
        found: int | None = self.__dict__.get("_hash")
        if found is None:
            found = hash((self.allow_hosts, self.allow_cidrs, self.allow_loopback, self.allow_private))
            object.__setattr__(self, "_hash", found)
        return found

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_hash"}

    def host_allowed(self, host: str) -> bool:
        """Whether ``host`` is on the allow list (then any address it resolves to is accepted)."""
        host = host.lower().rstrip(".")
        return any(host == h or (h.startswith("*.") and host.endswith(h[1:])) for h in self.allow_hosts)

    def refusal(self, address: str) -> str | None:
        """Why ``address`` is refused (``"loopback"``, ``"cloud metadata"``...), or None if allowed."""
        return _refusal(self, address)

    def _decide(self, address: str) -> str | None:
        ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
        if any(ip in net for net in self.allow_cidrs):
            return None
        if ip in METADATA_ADDRESSES:
            return "cloud metadata"
        if ip.is_unspecified:
            return "unspecified"
        if ip.is_multicast:
            return "multicast"
        if ip.is_loopback:
            return None if self.allow_loopback else "loopback"
        if ip.is_link_local:
            return "link-local"
        if not ip.is_global or ip.is_private or ip.is_reserved:
            return None if self.allow_private else "private"
        return None

    def check_url(self, scheme: str, host: str) -> None:
        """Refuse what can be refused without DNS: other schemes, metadata names, literal addresses."""
        if scheme not in ALLOWED_SCHEMES:
            raise DestinationRefused(
                f"refusing to call a {scheme}:// URL: only http and https are allowed",
                host=host,
                reason="scheme",
            )
        if self.host_allowed(host):
            return
        if host.lower().rstrip(".") in METADATA_HOSTS:
            raise _refused(host, None, "cloud metadata")
        address = canonical_host(host)
        if is_ip(address):
            reason = self.refusal(address)
            if reason:
                raise _refused(host, address, reason)

    def check_addresses(self, host: str, addresses: list[str]) -> None:
        """Refuse ``host`` when ANY of its resolved addresses is refused (a mixed answer is an attack)."""
        if self.host_allowed(host):
            return
        for address in addresses:
            reason = self.refusal(address)
            if reason:
                raise _refused(host, address, reason)


DEFAULT_NETWORK_POLICY = NetworkPolicy()


@functools.lru_cache(maxsize=4096)
def _refusal(policy: NetworkPolicy, address: str) -> str | None:
    """``policy._decide`` remembered: every call checks its address, and parsing one is not free."""
    return policy._decide(address)


def _refused(host: str, address: str | None, reason: str) -> DestinationRefused:
    where = host if address in (None, host) else f"{host} ({address})"
    return DestinationRefused(
        f"refusing to connect to {where}: {reason} addresses are blocked by the network policy; "
        "to allow it, use NetworkPolicy(allow_hosts=..., allow_cidrs=..., allow_loopback/allow_private=True)",
        host=host,
        address=address,
        reason=reason,
    )


_IPV4_PART = re.compile(r"0[xX][0-9a-fA-F]*|0[0-7]*|[1-9][0-9]*")


@functools.lru_cache(maxsize=4096)  # pure, and asked on every call: the hosts a process calls are few
def canonical_host(host: str) -> str:
    """``host`` with a legacy IPv4 spelling turned into the dotted quad the OS would connect to.

    ``inet_aton`` (and so ``getaddrinfo``, curl, browsers) reads ``0177.0.0.1`` (octal),
    ``0x7f.1`` (hex, short form) and ``2130706433`` (one number) as 127.0.0.1; Python's
    ``ipaddress`` rejects them, so without this they would slip past a literal check as
    "names". Anything else comes back unchanged.
    """
    text = host.strip("[]").rstrip(".")
    parts = text.split(".")
    if not 1 <= len(parts) <= 4 or not all(_IPV4_PART.fullmatch(p) for p in parts):
        return host
    values = [_ipv4_part(p) for p in parts]
    # The last part fills the bytes the others leave (a.b.c.d, a.b.c16, a.b24, a32).
    last_bits = 8 * (5 - len(values))
    if any(v > 255 for v in values[:-1]) or values[-1] >= 1 << last_bits:
        return host
    number = values[-1]
    for index, value in enumerate(values[:-1]):
        number |= value << (24 - 8 * index)
    return str(ipaddress.IPv4Address(number))


def _ipv4_part(part: str) -> int:
    if part[:2].lower() == "0x":
        return int(part[2:] or "0", 16)
    return int(part, 8) if part.startswith("0") else int(part)


@functools.lru_cache(maxsize=4096)
def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    return True


class HostResolver(Protocol):
    """Turns a host name into addresses; swapped in tests (DNS rebinding) and by the gateway."""

    async def resolve(self, host: str, port: int) -> list[str]: ...


class SystemResolver:
    """The operating system's resolver (``getaddrinfo``), run off the event loop."""

    async def resolve(self, host: str, port: int) -> list[str]:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise UpstreamUnavailable(f"cannot resolve host {host!r}: {exc.strerror or exc}") from exc
        addresses: list[str] = []
        for _family, _type, _proto, _name, sockaddr in infos:
            address = str(sockaddr[0])
            if address not in addresses:
                addresses.append(address)
        return addresses


class GuardedResolver(AbstractResolver):
    """aiohttp's resolver with the policy applied: the addresses a connection may be opened to.

    Resolves once, checks every address, then hands aiohttp exactly those addresses, so the
    answer that was checked is the answer that is connected to (aiohttp tries them in turn).
    """

    def __init__(self, policy: NetworkPolicy, resolver: HostResolver | None = None) -> None:
        self.policy = policy
        self.resolver = resolver or SystemResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        host = canonical_host(host.strip("[]"))
        addresses = [host] if is_ip(host) else await self.resolver.resolve(host, port)
        if not addresses:
            raise UpstreamUnavailable(f"host {host!r} has no addresses")
        self.policy.check_addresses(host, addresses)
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in addresses
        ]

    async def close(self) -> None:
        return None
