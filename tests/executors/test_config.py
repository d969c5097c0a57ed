"""The Celery app, worker command line and ``tether worker`` refuse or configure what they should."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import tether.executors
from tether.cli import app as cli_app
from tether.config import load_settings
from tether.errors import ConfigurationError
from tether.executors import (
    ADVANCE_RUN_TASK,
    RUN_QUEUE,
    WorkerOptions,
    check_worker_settings,
    create_celery_app,
    distributed_flow_host,
    transport_options,
    worker_argv,
    worker_banner,
)

EXPORTS = [
    "ADVANCE_RUN_TASK", "FLEET_INSTANCE", "LEASE_CHECK_INTERVAL", "NOT_CLAIMED", "POOLS", "RESPONSE_CHANNEL",
    "RUN_QUEUE",
    "Advance", "AdvanceFactory", "BrokerUnavailable", "CeleryExecutor", "LeaseBook", "LeaseLost",
    "ResponseListener",
    "ResponsePublisher", "RunAdvance", "RunLease", "WorkerOptions", "WorkerHost", "advance_leased",
    "build_worker_app", "check_worker_settings", "create_celery_app", "distributed_flow_host",
    "engine_services", "lease_key", "register_tasks", "reply_channel", "run_worker", "services_advance",
    "transport_options", "worker_argv", "worker_banner",
]  # fmt: skip


def test_public_names_are_pinned() -> None:
    assert sorted(tether.executors.__all__) == sorted(EXPORTS)
    assert all(hasattr(tether.executors, name) for name in EXPORTS)


def test_the_app_acknowledges_late_and_takes_one_task_at_a_time() -> None:
    settings = load_settings(broker_url="redis://127.0.0.1:1/0", broker_visibility_timeout=2)
    conf = create_celery_app(settings).conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_ignore_result
    # No per-task extras: events, remote control (its pidbox channel), rate limits.
    assert not conf.worker_send_task_events and not conf.task_send_sent_event
    assert not conf.worker_enable_remote_control and conf.worker_disable_rate_limits
    assert conf.task_routes[ADVANCE_RUN_TASK] == {"queue": RUN_QUEUE}
    assert conf.broker_transport_options == transport_options(settings)
    assert transport_options(settings) == {
        "visibility_timeout": 2,
        "unacked_restore_interval": 0.5,
        "unacked_restore_throttle": 1,
    }
    assert transport_options(load_settings())["unacked_restore_interval"] == 10.0  # default 300 s timeout
    # On redis:// kombu's transport with one client per channel (not one per ack).
    assert conf.broker_transport == "tether.executors._transport:Transport"
    assert create_celery_app(load_settings(broker_url="rediss://r:6379/0")).conf.broker_transport is None


def test_no_broker_means_no_celery_app() -> None:
    with pytest.raises(ConfigurationError, match="TETHER_BROKER_URL"):
        create_celery_app(load_settings(broker_url=""))


@pytest.mark.parametrize(
    ("broker", "database", "match"),
    [
        pytest.param("", "postgresql://db/t", "TETHER_BROKER_URL", id="no-broker"),
        pytest.param("redis://r", "sqlite:///t.db", "PostgreSQL", id="sqlite"),
    ],
)
def test_worker_settings_are_checked(broker: str, database: str, match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        check_worker_settings(load_settings(broker_url=broker, database_url=database))


def test_worker_command_line_and_banner_hide_passwords() -> None:
    options = WorkerOptions(pool="solo", concurrency=8, name="w1@%h")
    argv = worker_argv(options)
    assert "--concurrency=1" in argv and "--pool=solo" in argv and f"--queues={RUN_QUEUE}" in argv
    assert {"--without-gossip", "--without-mingle", "--without-heartbeat"} <= set(argv)
    settings = load_settings(broker_url="redis://:s3cret@r:6379/0", database_url="postgresql://u:hidden@h/d")
    banner = worker_banner(settings, options)
    assert "s3cret" not in banner and "hidden" not in banner and "%h" not in banner
    with pytest.raises(ConfigurationError):
        WorkerOptions(pool="gevent")


def test_the_distributed_server_needs_postgresql(tmp_path) -> None:
    from tether.store import Database

    settings = load_settings(broker_url="redis://127.0.0.1:1/0", home=tmp_path)
    with Database(settings.database_url) as db, pytest.raises(ConfigurationError, match="PostgreSQL"):
        distributed_flow_host(db, settings)


def test_tether_worker_says_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TETHER_BROKER_URL", raising=False)
    result = CliRunner().invoke(cli_app, ["worker", "--database-url", "postgresql://db/t"])
    assert result.exit_code == 2
    assert "TETHER_BROKER_URL" in result.output and "Traceback" not in result.output
