"""The SSRF guard: refused by default, allowed on purpose, checked at connect time and per hop."""

from __future__ import annotations

import copy
import pickle
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.runtime.conftest import LOOPBACK
from tether.definition import compile_api
from tether.runtime import ConnectionContext, DestinationRefused, NetworkPolicy, Runtime

pytestmark = pytest.mark.anyio

DEFAULT = NetworkPolicy()


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        pytest.param("127.0.0.1", "loopback", id="loopback-v4"),
        pytest.param("::1", "loopback", id="loopback-v6"),
        pytest.param("::ffff:127.0.0.1", "loopback", id="v4-mapped-loopback"),
        pytest.param("10.1.2.3", "private", id="10/8"),
        pytest.param("172.16.0.1", "private", id="172.16/12"),
        pytest.param("192.168.1.1", "private", id="192.168/16"),
        pytest.param("fc00::1", "private", id="fc00::/7"),
        pytest.param("100.64.0.1", "private", id="shared-cgnat"),
        pytest.param("169.254.1.1", "link-local", id="link-local-v4"),
        pytest.param("fe80::1", "link-local", id="link-local-v6"),
        pytest.param("169.254.169.254", "cloud metadata", id="metadata-v4"),
        pytest.param("fd00:ec2::254", "cloud metadata", id="metadata-aws-v6"),
        pytest.param("0.0.0.0", "unspecified", id="unspecified-v4"),
        pytest.param("::", "unspecified", id="unspecified-v6"),
        pytest.param("224.0.0.1", "multicast", id="multicast-v4"),
        pytest.param("ff02::1", "multicast", id="multicast-v6"),
        pytest.param("93.184.216.34", None, id="public-v4"),
        pytest.param("2606:4700::1111", None, id="public-v6"),
    ],
)
def test_default_policy_refusals(address, reason) -> None:
    assert DEFAULT.refusal(address) == reason


@pytest.mark.parametrize(
    ("policy", "address", "allowed"),
    [
        pytest.param(NetworkPolicy(allow_loopback=True), "127.0.0.1", True, id="allow-loopback"),
        pytest.param(NetworkPolicy(allow_loopback=True), "10.0.0.1", False, id="loopback-is-not-private"),
        pytest.param(NetworkPolicy(allow_private=True), "192.168.1.1", True, id="allow-private"),
        pytest.param(
            NetworkPolicy(allow_private=True), "169.254.169.254", False, id="metadata-stays-refused"
        ),
        pytest.param(NetworkPolicy(allow_cidrs=["10.20.0.0/16"]), "10.20.3.4", True, id="cidr"),
        pytest.param(NetworkPolicy(allow_cidrs=["10.20.0.0/16"]), "10.21.3.4", False, id="outside-cidr"),
        pytest.param(
            NetworkPolicy(allow_cidrs=["169.254.169.254/32"]), "169.254.169.254", True, id="explicit"
        ),
    ],
)
def test_policy_allowances(policy, address, allowed) -> None:
    assert (policy.refusal(address) is None) is allowed


def test_metadata_host_names_are_refused_without_dns() -> None:
    with pytest.raises(DestinationRefused, match="cloud metadata"):
        DEFAULT.check_url("http", "metadata.google.internal")
    with pytest.raises(DestinationRefused, match="only http and https"):
        DEFAULT.check_url("file", "")
    NetworkPolicy(allow_hosts=["*.corp.example"]).check_addresses("api.corp.example", ["10.0.0.5"])


def test_policies_are_hashable_values() -> None:
    assert NetworkPolicy(allow_cidrs=["10.0.0.0/8"]) == NetworkPolicy(allow_cidrs=("10.0.0.0/8",))
    assert len({NetworkPolicy(), NetworkPolicy(), LOOPBACK}) == 2


def test_a_policy_hash_is_not_carried_between_processes() -> None:
    # The hash is computed once and kept on the policy; a pickle (a worker process, the other
    # end of a queue) must not carry it, since string hashes differ from process to process.
    policy = NetworkPolicy(allow_hosts=["api.example"], allow_loopback=True)
    pools = {policy: "pool"}
    state = policy.__reduce_ex__(2)
    assert "_hash" not in repr(state)
    copied = pickle.loads(pickle.dumps(policy))
    assert copied == policy and hash(copied) == hash(policy) and pools[copied] == "pool"


async def test_loopback_is_refused_by_default_with_a_clear_error(httpbin, httpbin_spec) -> None:
    api = compile_api(httpbin_spec, name="httpbin")
    async with Runtime() as runtime:
        with pytest.raises(DestinationRefused) as caught:
            await runtime.invoke(api, "get_get", connection=ConnectionContext(base_url=httpbin.url))
    assert caught.value.reason == "loopback" and caught.value.status == 403
    assert "127.0.0.1" in caught.value.message and "allow_loopback" in caught.value.message


class ScriptedResolver:
    """DNS answers scripted per call: how a rebinding attacker's name server behaves."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.calls = 0

    async def resolve(self, host: str, port: int) -> list[str]:
        self.calls += 1
        return self.answers.pop(0) if self.answers else ["127.0.0.1"]


def serve(host: str) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = f'{{"served_by": "{host}"}}'.encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            return

    server = ThreadingHTTPServer((host, 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"{host}:{server.server_address[1]}"


def rebind_api(httpbin_spec, port: int):
    spec = copy.deepcopy(httpbin_spec)
    spec["host"], spec["schemes"] = f"rebind.test:{port}", ["http"]
    return compile_api(spec, name="rebind")


async def test_dns_rebinding_connects_only_to_the_checked_address(httpbin_spec) -> None:
    # 127.0.0.2 plays the allowed public API; 127.0.0.1 plays the internal service.
    public, _ = serve("127.0.0.2")
    port = public.server_address[1]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))  # the "internal" address is a different socket on the same port
        resolver = ScriptedResolver(["127.0.0.2"], ["127.0.0.1"])
        policy = NetworkPolicy(allow_cidrs=["127.0.0.2/32"])
        api = rebind_api(httpbin_spec, port)
        try:
            async with Runtime(network_policy=policy, resolver=resolver) as runtime:
                first = await runtime.invoke(api, "get_get")
                assert first.body == {"served_by": "127.0.0.2"}
                assert resolver.calls == 1  # resolved once, and connected to that very answer
                await runtime.client.aclose()
            async with Runtime(network_policy=policy, resolver=resolver) as runtime:
                with pytest.raises(DestinationRefused, match=r"rebind\.test \(127\.0\.0\.1\): loopback"):
                    await runtime.invoke(api, "get_get")  # a new connection re-checks the new answer
        finally:
            public.shutdown()
            public.server_close()


async def test_a_mixed_dns_answer_is_refused(httpbin_spec) -> None:
    resolver = ScriptedResolver(["93.184.216.34", "10.0.0.1"])
    async with Runtime(resolver=resolver) as runtime:
        with pytest.raises(DestinationRefused, match="private"):
            await runtime.invoke(rebind_api(httpbin_spec, 80), "get_get")


async def test_redirect_to_a_private_address_is_refused(httpbin, httpbin_spec) -> None:
    # The API is reached by a name the policy allows; its redirect points at a loopback literal.
    port = int(httpbin.url.rsplit(":", 1)[1])
    api = rebind_api(httpbin_spec, port)
    policy = NetworkPolicy(allow_hosts=["rebind.test"])
    async with Runtime(network_policy=policy, resolver=ScriptedResolver(["127.0.0.1"])) as runtime:
        ok = await runtime.invoke(api, "get_get")
        assert ok.status == 200
        target = f"http://127.0.0.1:{port}/get"
        with pytest.raises(DestinationRefused, match="loopback"):
            await runtime.invoke(api, "get_redirect_to", {"url": target})
