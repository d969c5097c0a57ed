"""The gateway's pure parts: sealing, the allowlist, the wire's validation, the backoff."""

from __future__ import annotations

import pytest

from tether.errors import InputError
from tether.gateway import Allowlist, ProtocolViolation, backoff_delay, encode_frame, websocket_url
from tether.gateway._protocol import pack_chunk, parse_frame, unpack_chunk
from tether.secrets import (
    SealError,
    generate_key_pair,
    is_sealed,
    open_sealed,
    public_key_of,
    seal,
    unwrap_private_key,
    wrap_private_key,
)


def test_a_sealed_value_opens_with_the_cluster_key_only() -> None:
    private, public = generate_key_pair()
    other, _ = generate_key_pair()
    sealed = seal(public, b"s3cret")
    assert is_sealed(sealed) and "s3cret" not in sealed and seal(public, b"s3cret") != sealed
    assert open_sealed(private, sealed) == b"s3cret"
    with pytest.raises(SealError, match="another cluster"):
        open_sealed(other, sealed)
    tampered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    with pytest.raises(SealError):
        open_sealed(private, tampered)


def test_the_recovery_key_recovers_the_private_key_and_a_wrong_one_does_not() -> None:
    private, public = generate_key_pair()
    wrapped = wrap_private_key(private, "correct horse battery staple")
    assert public_key_of(unwrap_private_key(wrapped, "correct horse battery staple")) == public
    with pytest.raises(SealError, match="recovery key does not open"):
        unwrap_private_key(wrapped, "wrong horse battery staple")
    with pytest.raises(InputError, match="at least 12"):
        wrap_private_key(private, "short")


@pytest.mark.parametrize(
    ("entries", "host", "port", "allowed"),
    [
        pytest.param(["10.1.2.3"], "10.1.2.3", 8080, True, id="address-any-port"),
        pytest.param(["10.1.2.3:8080"], "10.1.2.3", 8081, False, id="address-other-port"),
        pytest.param(["10.1.0.0/16:443"], "10.1.9.9", 443, True, id="network-port"),
        pytest.param(["10.1.0.0/16"], "10.2.0.1", 80, False, id="outside-network"),
        pytest.param(["*.corp.example"], "api.corp.example", 443, True, id="subdomain"),
        pytest.param(["*.corp.example"], "corp.example", 443, False, id="wildcard-not-apex"),
        pytest.param(["api.corp.example:443"], "API.corp.example", 443, True, id="name-case"),
        pytest.param(["[fd00::1]:443"], "fd00::1", 443, True, id="ipv6"),
        pytest.param([], "10.1.2.3", 80, False, id="empty-allows-nothing"),
    ],
)
def test_the_allowlist(entries: list[str], host: str, port: int, allowed: bool) -> None:
    assert Allowlist(entries).allows(host, port) is allowed


@pytest.mark.parametrize("entry", ["10.1.2.3:99999", "http://x/y", "host:port"])
def test_a_bad_allowlist_entry_is_refused_clearly(entry: str) -> None:
    with pytest.raises(InputError, match="allowlist entry"):
        Allowlist([entry])


def test_frames_are_checked_field_by_field() -> None:
    good = encode_frame("error", id=3, kind="connect", message="no route")
    assert parse_frame(good, allowed=frozenset({"error"}))["kind"] == "connect"
    bad = [
        (
            encode_frame("error", id=3, kind="connect", message="x"),
            frozenset({"response"}),
        ),  # unexpected type
        (encode_frame("error", id=0, kind="connect", message="x"), frozenset({"error"})),  # id out of range
        (encode_frame("error", id=3, kind="explode", message="x"), frozenset({"error"})),  # unknown kind
        (encode_frame("error", id=3, kind="connect", message="x", extra=1), frozenset({"error"})),
        ('{"v": 2, "t": "error"}', frozenset({"error"})),  # another protocol version
        ("[1, 2]", frozenset({"error"})),
        ("not json", frozenset({"error"})),
    ]
    for text, allowed in bad:
        with pytest.raises(ProtocolViolation):
            parse_frame(text, allowed=allowed)


def test_body_chunks_round_trip_and_are_bounded() -> None:
    assert unpack_chunk(pack_chunk(7, b"abc", last=True)) == (7, True, b"abc")
    with pytest.raises(ProtocolViolation):
        unpack_chunk(b"\x00\x00")
    with pytest.raises(ProtocolViolation):
        unpack_chunk(pack_chunk(7, b"x" * (64 * 1024 + 1)))


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    early = [backoff_delay(0) for _ in range(50)]
    late = [backoff_delay(20) for _ in range(50)]
    assert all(0.25 <= d <= 0.5 for d in early) and max(late) <= 30.0 and len(set(late)) > 1


def test_the_tunnel_uses_tls_when_the_server_does() -> None:
    assert websocket_url("https://tether.example/") == "wss://tether.example/api/v1/gateway/connect"
    assert websocket_url("http://10.0.0.1:8000") == "ws://10.0.0.1:8000/api/v1/gateway/connect"
