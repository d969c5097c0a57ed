"""Calls into a private network through an agent, proven with real network namespaces (see conftest)."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import time
from collections.abc import Iterator

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.gateway.conftest import (
    ENV,
    TETHER,
    UPSTREAM_DEADLINE,
    OnPrem,
    Server,
    gateway_connection,
    online,
    register_agent,
    run_agent,
    upload_connector,
    wait_for,
)
from tether.config import load_settings
from tether.gateway import websocket_url
from tether.secrets import DecryptionFailed, KeyRing, is_sealed, seal
from tether.store import Connections

PASSWORD = "pw-only-the-gateway-reads-7Qx"
CLUSTER = "onprem"


@pytest.fixture(scope="module")
def cluster(onprem: OnPrem, server: Server) -> Iterator[str]:
    created = server.api("POST", f"{ENV}/gateways", json={"name": CLUSTER})
    assert created.status_code == 201, created.text
    config = register_agent(onprem, server, CLUSTER, created.json()["registration_token"], "agent-1")
    agent = run_agent(onprem, config, f"{onprem.api_ip}:{onprem.api_port}")
    wait_for(lambda: online(server, CLUSTER), "the agent to connect", timeout=60, every=0.2)
    yield CLUSTER
    onprem.stop(agent)


def test_the_server_has_no_route_to_the_private_api(onprem: OnPrem) -> None:
    with pytest.raises(OSError), socket.create_connection((onprem.api_ip, onprem.api_port), timeout=3):
        pass


def test_invoke_through_the_gateway_applies_the_sealed_credentials(
    onprem: OnPrem, server: Server, cluster: str
) -> None:
    connection = gateway_connection(server, onprem, cluster, PASSWORD)
    good = server.api(
        "POST",
        f"{ENV}/connections/{connection}/invoke/CheckBasic",
        json={"user": "alice", "passwd": PASSWORD},
    )
    assert good.status_code == 200, good.text
    assert good.json()["status"] == 200 and good.json()["body"] == {"authenticated": True, "user": "alice"}
    # httpbin answers 401 when the agent's Basic header does not carry exactly these credentials.
    wrong = server.api(
        "POST", f"{ENV}/connections/{connection}/invoke/CheckBasic", json={"user": "alice", "passwd": "nope"}
    )
    assert wrong.json()["status"] == 401
    echoed = server.api("POST", f"{ENV}/connections/{connection}/invoke/Anything", json={"body": {"a": 1}})
    assert echoed.json()["status"] == 200 and echoed.json()["body"]["json"] == {"a": 1}
    assert PASSWORD not in good.text + wrong.text + echoed.text


def test_the_database_holds_no_readable_secret(onprem: OnPrem, server: Server, cluster: str) -> None:
    connection = gateway_connection(server, onprem, cluster, PASSWORD)
    settings = server.app.state.settings  # type: ignore[attr-defined]
    keyring = KeyRing.from_settings(load_settings(home=settings.home, database_url=settings.database_url))
    with server.db.session() as session:
        row = Connections(session).get(connection)
        assert row is not None and row.gateway == cluster
        values = keyring.decrypt_json(row.secret_values)
    # The server's key ring opens its own layer, and finds only a value sealed to the cluster...
    assert values["username"] == "alice" and is_sealed(values["password"])
    # ...which none of the server's keys opens.
    with pytest.raises(DecryptionFailed):
        keyring.decrypt(values["password"])
    database = settings.home / "tether.db"
    for path in (database, database.with_name("tether.db-wal")):
        if path.exists():
            assert PASSWORD.encode() not in path.read_bytes()


def test_a_host_outside_the_allowlist_is_refused_by_the_agent(
    onprem: OnPrem, server: Server, cluster: str
) -> None:
    connection = gateway_connection(server, onprem, cluster, PASSWORD, host=f"{onprem.api_ip}:9")
    answer = server.api("POST", f"{ENV}/connections/{connection}/invoke/Headers", json={})
    assert answer.status_code == 403, answer.text
    problem = answer.json()
    assert problem["type"].endswith("gateway-host-not-allowed")
    assert f"{onprem.api_ip}:9 is not in this gateway agent's allowlist" in problem["detail"]


def test_a_flow_action_goes_through_the_gateway(onprem: OnPrem, server: Server, cluster: str) -> None:
    connection = gateway_connection(server, onprem, cluster, PASSWORD)
    action = {
        "type": "ApiConnection",
        "inputs": {
            "host": {"connection": {"name": "@parameters('$connections')['private']['connectionId']"}},
            "method": "get",
            "path": f"/basic-auth/alice/{PASSWORD}",
        },
    }
    definition = {"triggers": {"manual": {"type": "Request", "kind": "Http"}}, "actions": {"Check": action}}
    flow = {"name": "through-gateway", "definition": definition, "connections": {"private": connection}}
    created = server.api("POST", f"{ENV}/flows", json=flow)
    assert created.status_code == 201, created.text
    run = server.api("POST", f"{ENV}/flows/through-gateway/runs", json={"body": {}}).json()

    def finished() -> dict | None:
        detail = server.api("GET", f"{ENV}/flows/through-gateway/runs/{run['id']}").json()
        return detail if detail["run"]["status"] in ("Succeeded", "Failed", "Cancelled") else None

    detail = wait_for(finished, "the flow run to finish", timeout=60, every=0.1)
    check = next(a for a in detail["actions"] if a["name"] == "Check")
    assert detail["run"]["status"] == "Succeeded", detail
    assert check["outputs"]["statusCode"] == 200
    assert check["outputs"]["body"] == {"authenticated": True, "user": "alice"}


def test_the_cli_seals_secrets_before_sending_them(onprem: OnPrem, server: Server, cluster: str) -> None:
    connector = upload_connector(server, onprem)
    token = server.headers["Authorization"].removeprefix("Bearer ")
    done = subprocess.run(
        [TETHER, "connection", "create", connector, "--no-input", "--json", "--server", server.url,
         "--token", token, "--param", "username=alice", "--param", f"password={PASSWORD}",
         "--param", f"gateway={cluster}"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    connection = json.loads(done.stdout)["id"]
    answer = server.api(
        "POST",
        f"{ENV}/connections/{connection}/invoke/CheckBasic",
        json={"user": "alice", "passwd": PASSWORD},
    )
    assert answer.json()["body"] == {"authenticated": True, "user": "alice"}, answer.text


def test_the_api_accepts_values_sealed_by_the_client(onprem: OnPrem, server: Server, cluster: str) -> None:
    public_key = server.api("GET", f"{ENV}/gateways/{cluster}").json()["public_key"]
    sealed = seal(public_key, PASSWORD.encode())
    values = {"username": "alice", "password": sealed, "gateway": cluster}
    connection = gateway_connection(server, onprem, cluster, PASSWORD, parameters=values)
    with server.db.session() as session:
        row = Connections(session).get(connection)
        assert row is not None
        stored = KeyRing.from_settings(server.app.state.settings).decrypt_json(row.secret_values)  # type: ignore[attr-defined]
    assert stored["password"] == sealed  # kept exactly as the client sealed it
    answer = server.api(
        "POST",
        f"{ENV}/connections/{connection}/invoke/CheckBasic",
        json={"user": "alice", "passwd": PASSWORD},
    )
    assert answer.json()["body"] == {"authenticated": True, "user": "alice"}, answer.text


def test_an_agent_too_old_is_refused_clearly(server: Server, cluster: str) -> None:
    answer = httpx.post(
        f"{server.url}/api/v1/gateway/register",
        json={"token": "tgr_x", "cluster": cluster, "name": "old", "version": "0.0.9"},
        timeout=30,
    )
    assert answer.status_code == 426 and answer.json()["type"].endswith("gateway-agent-too-old"), answer.text
    assert "upgrade the agent" in answer.json()["detail"]

    async def connect_as_old() -> dict:
        url = websocket_url(server.url)
        headers = {"Authorization": "Bearer x:y", "X-Tether-Gateway-Agent": "0.0.9"}
        async with connect(url, additional_headers=headers) as ws:
            return json.loads(await ws.recv())

    refused = asyncio.run(connect_as_old())
    assert refused["t"] == "refused" and refused["code"] == "gateway-agent-too-old"


def test_the_deadline_travels_through_the_tunnel(onprem: OnPrem, server: Server, cluster: str) -> None:
    """A call outliving the server's deadline ends as upstream-timeout, and the agent lets go of it."""
    connection = gateway_connection(server, onprem, cluster, PASSWORD)
    started = time.monotonic()
    answer = server.api("POST", f"{ENV}/connections/{connection}/invoke/Delay", json={"n": 10})
    took = time.monotonic() - started
    assert answer.status_code == 504 and answer.json()["type"].endswith("upstream-timeout"), answer.text
    assert UPSTREAM_DEADLINE - 0.5 <= took < UPSTREAM_DEADLINE + 4, took
    hub = server.app.state.gateway_hub  # type: ignore[attr-defined]
    gateway_id = server.api("GET", f"{ENV}/gateways/{cluster}").json()["id"]
    [link] = hub.links(gateway_id)
    assert link.in_flight == 0  # the server forgot the call (and told the agent to cancel it)
    # The agent's own load report (every 5 s) comes back to zero: it stopped the upstream call too.
    wait_for(lambda: link.load == 0, "the agent to report no call in flight", timeout=15, every=0.1)


def test_a_polling_trigger_polls_through_the_gateway(onprem: OnPrem, server: Server, cluster: str) -> None:
    connection = gateway_connection(server, onprem, cluster, PASSWORD)
    trigger = {
        "type": "ApiConnection",
        "recurrence": {"frequency": "Minute", "interval": 1},
        "inputs": {
            "host": {"connection": {"name": "@parameters('$connections')['private']['connectionId']"}},
            "method": "get",
            "path": f"/basic-auth/alice/{PASSWORD}",
        },
    }
    actions = {"Keep": {"type": "Compose", "inputs": "@triggerBody()"}}
    definition = {"triggers": {"poll": trigger}, "actions": actions}
    flow = {"name": "polls-through-gateway", "definition": definition, "connections": {"private": connection}}
    created = server.api("POST", f"{ENV}/flows", json=flow)
    assert created.status_code == 201, created.text

    def first_run() -> dict | None:
        runs = server.api("GET", f"{ENV}/flows/polls-through-gateway/runs").json()["items"]
        if not runs:
            return None
        detail = server.api("GET", f"{ENV}/flows/polls-through-gateway/runs/{runs[-1]['id']}").json()
        return detail if detail["run"]["status"] in ("Succeeded", "Failed") else None

    detail = wait_for(first_run, "the first poll's run", timeout=45, every=0.2)
    keep = next(a for a in detail["actions"] if a["name"] == "Keep")
    assert keep["outputs"] == {"authenticated": True, "user": "alice"}, detail
    server.api("DELETE", f"{ENV}/flows/polls-through-gateway")
