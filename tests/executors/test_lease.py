"""Run leases on a real PostgreSQL: exclusive, freed by release or by the holder's death, watched."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.conftest import PostgresServer
from tether.errors import ConfigurationError
from tether.executors import LeaseLost, RunLease, advance_leased, lease_key
from tether.store import Database

pytestmark = pytest.mark.postgres


@pytest.fixture
def database(postgres_server: PostgresServer) -> Iterator[Database]:
    # Leases need no tables: the postgres database itself will do.
    db = Database(postgres_server.url())
    yield db
    db.close()


def _terminate(server: PostgresServer, key: int) -> None:
    """Kill the backend holding ``key``'s advisory lock, as a dead worker's connection would end."""
    with psycopg.connect(server.url(), autocommit=True) as connection:
        connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
            "AND classid = ((%s >> 32) & 4294967295)::oid AND objid = (%s & 4294967295)::oid",
            (key, key),
        )


def test_keys_are_stable_signed_64_bit_and_distinct() -> None:
    assert lease_key("run-1") == lease_key("run-1")
    assert lease_key("run-1") != lease_key("run-2")
    keys = [lease_key(f"run-{i}") for i in range(1000)]
    assert all(-(2**63) <= k < 2**63 for k in keys)
    assert any(k < 0 for k in keys)


def test_one_holder_at_a_time(database: Database) -> None:
    first, second = RunLease(database, "r1"), RunLease(database, "r1")
    assert first.acquire()
    assert first.alive()
    assert not second.acquire()
    with RunLease(database, "r2") as other:
        assert other.acquire()  # other runs are independent
    first.release()
    first.release()  # twice is harmless
    assert not first.alive()
    with second:
        assert second.acquire()
    with RunLease(database, "r1") as again:
        assert again.acquire()


def test_a_dead_holders_lease_is_free_at_once(database: Database, postgres_server: PostgresServer) -> None:
    holder = RunLease(database, "r-dead")
    assert holder.acquire()
    _terminate(postgres_server, holder.key)
    assert not holder.alive()
    taker = RunLease(database, "r-dead")
    assert taker.acquire()
    holder.release()  # the dead connection is discarded, not pooled
    assert taker.alive()
    taker.release()


def test_sqlite_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 't.db'}")
    with db, pytest.raises(ConfigurationError, match="PostgreSQL"):
        RunLease(db, "r")


def test_advance_leased_runs_once_and_drops_a_concurrent_duplicate(database: Database) -> None:
    calls: list[str] = []
    gate = asyncio.Event()

    async def advance(run_id: str) -> None:
        calls.append(run_id)
        await gate.wait()

    async def scenario() -> tuple[bool, bool]:
        first = asyncio.ensure_future(advance_leased(database, advance, "r-dup"))
        while not calls:
            await asyncio.sleep(0.01)
        duplicate = await advance_leased(database, advance, "r-dup")
        gate.set()
        return await first, duplicate

    assert asyncio.run(scenario()) == (True, False)
    assert calls == ["r-dup"]
    with RunLease(database, "r-dup") as after:
        assert after.acquire()  # released afterwards


def test_losing_the_lease_cancels_the_run(database: Database, postgres_server: PostgresServer) -> None:
    cancelled = asyncio.Event()

    async def advance(run_id: str) -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async def scenario() -> None:
        task = asyncio.ensure_future(advance_leased(database, advance, "r-lost", check_interval=0.05))
        await asyncio.sleep(0.2)
        await asyncio.to_thread(_terminate, postgres_server, lease_key("r-lost"))
        with pytest.raises(LeaseLost):
            await asyncio.wait_for(task, 10)

    asyncio.run(scenario())
    assert cancelled.is_set()
