"""Distributed mode: two server replicas on PostgreSQL and Redis; the agent on one, calls sent to the other.

The two replicas are two apps, each with its own uvicorn server, hub and event loop, sharing only
the PostgreSQL database and Redis (what separate processes would share): replica A listens on the
veth address the agent dials, replica B on loopback, where the agent cannot reach.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import PostgresServer, _postgres_database
from tests.executors.conftest import RedisServer
from tests.gateway.conftest import (
    ADMIN_PASSWORD,
    ENV,
    OnPrem,
    Server,
    gateway_connection,
    online,
    register_agent,
    run_agent,
    wait_for,
)
from tether import services
from tether.api import create_app, free_port, serve_in_thread
from tether.config import load_settings
from tether.store import Database, migrate

CLUSTER = "dist"


@pytest.fixture(scope="module")
def replicas(
    onprem: OnPrem,
    postgres_server: PostgresServer,
    gateway_redis: RedisServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Server, Server]]:
    home: Path = tmp_path_factory.mktemp("replicas")
    with ExitStack() as stack:
        url = stack.enter_context(contextmanager(_postgres_database)(postgres_server))
        database = Database(url)
        stack.callback(database.close)
        migrate(database)
        made = []
        for host in (onprem.server_ip, "127.0.0.1"):
            settings = load_settings(
                home=home, database_url=url, admin_password=ADMIN_PASSWORD, broker_url=gateway_redis.url()
            )
            services.bootstrap(database, settings)
            app = create_app(settings, database)
            base = stack.enter_context(serve_in_thread(app, host=host, port=free_port(host)))
            made.append((base, app))
        token = httpx.post(
            f"{made[1][0]}/api/v1/tokens", json={"name": "dist"}, auth=("admin", ADMIN_PASSWORD), timeout=30
        ).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        yield (
            Server(made[0][0], database, headers, made[0][1]),
            Server(made[1][0], database, headers, made[1][1]),
        )


def test_a_call_to_one_replica_reaches_the_agent_on_the_other(
    onprem: OnPrem, replicas: tuple[Server, Server]
) -> None:
    with_agent, without_agent = replicas
    created = without_agent.api("POST", f"{ENV}/gateways", json={"name": CLUSTER})
    assert created.status_code == 201, created.text
    config = register_agent(onprem, with_agent, CLUSTER, created.json()["registration_token"], "dist-1")
    agent = run_agent(onprem, config, f"{onprem.api_ip}:{onprem.api_port}")
    try:
        wait_for(
            lambda: online(without_agent, CLUSTER), "the agent to connect to replica A", timeout=60, every=0.2
        )
        connection = gateway_connection(without_agent, onprem, CLUSTER, "pw-distributed-9")
        gateway_id = without_agent.api("GET", f"{ENV}/gateways/{CLUSTER}").json()["id"]
        assert without_agent.app.state.gateway_hub.links(gateway_id) == []  # type: ignore[attr-defined]
        assert len(with_agent.app.state.gateway_hub.links(gateway_id)) == 1  # type: ignore[attr-defined]
        answer = without_agent.api(
            "POST",
            f"{ENV}/connections/{connection}/invoke/CheckBasic",
            json={"user": "alice", "passwd": "pw-distributed-9"},
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["body"] == {"authenticated": True, "user": "alice"}
        # A streamed answer of several chunks crosses the bridge whole.
        big = without_agent.api(
            "POST", f"{ENV}/connections/{connection}/invoke/Anything", json={"body": {"x": "y" * 200_000}}
        )
        assert big.status_code == 200 and big.json()["body"]["json"] == {"x": "y" * 200_000}
    finally:
        onprem.stop(agent)
