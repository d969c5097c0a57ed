"""A gateway whose last agent goes away is a ``gateway.offline`` event (one per outage, not per agent)."""

from __future__ import annotations

from tests.gateway.conftest import ENV, OnPrem, Server, online, register_agent, run_agent, wait_for

CLUSTER = "evented"


def test_the_last_agent_leaving_is_a_gateway_offline_event(onprem: OnPrem, server: Server) -> None:
    created = server.api("POST", f"{ENV}/gateways", json={"name": CLUSTER})
    assert created.status_code == 201, created.text
    config = register_agent(onprem, server, CLUSTER, created.json()["registration_token"], "ev-1")
    agent = run_agent(onprem, config, f"{onprem.api_ip}:{onprem.api_port}")
    try:
        wait_for(lambda: len(online(server, CLUSTER)) == 1, "the agent online", timeout=60, every=0.2)
    finally:
        onprem.stop(agent)

    def offline() -> list[dict]:
        answer = server.api("GET", f"{ENV}/events", params={"type": "gateway.offline"})
        assert answer.status_code == 200, answer.text
        return [e for e in answer.json()["items"] if e["subject"]["name"] == CLUSTER]

    wait_for(lambda: len(offline()) == 1, "a gateway.offline event", timeout=60, every=0.2)
    assert offline()[0]["data"] == {"last_agent": "ev-1"}
