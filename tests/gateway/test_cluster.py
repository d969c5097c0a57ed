"""A gateway cluster of two agents: spreading calls, failing over on SIGKILL, recovering the key, removal."""

from __future__ import annotations

import asyncio
import signal
import time

import httpx

from tests.gateway.conftest import (
    ENV,
    OnPrem,
    Server,
    gateway_connection,
    online,
    register_agent,
    run_agent,
    wait_for,
)

CLUSTER = "ha"
WORKERS = 8


async def _steady_calls(server: Server, connection: str, stop_after: float, kill: asyncio.Event) -> dict:
    """WORKERS loops of GET /delay/1 until ``stop_after`` seconds after ``kill`` fired."""
    tally = {"ok": 0, "failed": 0, "after_kill_ok": 0, "errors": []}
    url = f"{server.url}{ENV}/connections/{connection}/invoke/Delay"
    async with httpx.AsyncClient(headers=server.headers, timeout=60) as client:

        async def worker() -> None:
            deadline: float | None = None
            while deadline is None or time.monotonic() < deadline:
                if deadline is None and kill.is_set():
                    deadline = time.monotonic() + stop_after
                killed = kill.is_set()
                answer = await client.post(url, json={"n": 1})
                if answer.status_code == 200 and answer.json()["status"] == 200:
                    tally["ok"] += 1
                    tally["after_kill_ok"] += killed
                else:
                    tally["failed"] += 1
                    tally["errors"].append(answer.text[:300])

        await asyncio.gather(*(worker() for _ in range(WORKERS)))
    return tally


def test_sigkill_of_one_agent_loses_no_idempotent_call(onprem: OnPrem, server: Server) -> None:
    created = server.api("POST", f"{ENV}/gateways", json={"name": CLUSTER})
    assert created.status_code == 201, created.text
    first = register_agent(onprem, server, CLUSTER, created.json()["registration_token"], "ha-1")
    # The second agent recovers the cluster's private key with the recovery key.
    token = server.api("POST", f"{ENV}/gateways/{CLUSTER}/tokens").json()["registration_token"]
    second = register_agent(onprem, server, CLUSTER, token, "ha-2")
    allow = f"{onprem.api_ip}:{onprem.api_port}"
    agents = {"ha-1": run_agent(onprem, first, allow), "ha-2": run_agent(onprem, second, allow)}
    try:
        wait_for(lambda: len(online(server, CLUSTER)) == 2, "both agents online", timeout=60, every=0.2)
        connection = gateway_connection(server, onprem, CLUSTER, "pw-ha-cluster")
        gateway_id = server.api("GET", f"{ENV}/gateways/{CLUSTER}").json()["id"]
        kill = asyncio.Event()

        async def scenario() -> dict:
            calls = asyncio.create_task(_steady_calls(server, connection, 3.0, kill))
            await asyncio.sleep(0)  # let the workers start
            # Both members carry calls before the kill (least-loaded spreading).
            hub = server.app.state.gateway_hub  # type: ignore[attr-defined]
            await asyncio.to_thread(
                wait_for,
                lambda: all(link.in_flight > 0 for link in hub.links(gateway_id)),
                "calls in flight on both agents",
            )
            agents["ha-1"].send_signal(signal.SIGKILL)
            kill.set()
            return await calls

        tally = asyncio.run(scenario())
        retried = server.app.state.gateway_hub.failovers  # type: ignore[attr-defined]
        print(f"\nHA: {tally['ok']} ok, {tally['failed']} failed, {retried} failed over after SIGKILL")
        assert tally["failed"] == 0, tally["errors"]
        assert tally["after_kill_ok"] >= WORKERS and retried >= 1  # calls were in flight on the killed one
        members = server.api("GET", f"{ENV}/gateways/{CLUSTER}/members").json()["items"]
        assert {m["name"]: m["status"] for m in members} == {"ha-1": "offline", "ha-2": "online"}
        assert all(m["last_contact_at"] for m in members)
        # Removing the member that is left closes its tunnel; its reconnect is refused and it stops.
        removed = server.api("DELETE", f"{ENV}/gateways/{CLUSTER}/members/ha-2")
        assert removed.status_code == 204, removed.text
        assert agents["ha-2"].wait(timeout=60) != 0
        assert "not registered" in (onprem.folder / "ha-2.log").read_text()
        offline = server.api("POST", f"{ENV}/connections/{connection}/invoke/Delay", json={"n": 0})
        assert offline.status_code == 503 and offline.json()["type"].endswith("gateway-offline")
    finally:
        for process in agents.values():
            onprem.stop(process)
