"""The read-through cache behind token checks and prepared calls, and the write counts it relies on."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import update

from tether.errors import Conflict
from tether.services._read_cache import ReadCache
from tether.store import Database, Environments, User, Users

USERS = ("users",)


def test_committed_writes_are_counted_per_table(db: Database) -> None:
    before_users, before_envs = db.writes(USERS), db.writes(["environments"])
    with db.session() as s:
        Users(s).add("ada", password_hash=None, display_name="Ada")
    assert db.writes(USERS) == before_users + 1 and db.writes(["environments"]) == before_envs
    with db.session() as s:  # a change to a loaded object
        Users(s).by_username("ada").display_name = "Ada"
    with db.session() as s:  # a bulk statement: no object is flushed
        s.execute(update(User).where(User.username == "ada").values(display_name="A."))
    assert db.writes(USERS) == before_users + 3
    with db.session() as s:  # reads count nothing
        Users(s).by_username("ada")
        Environments(s).find("default")
    assert db.writes(USERS) == before_users + 3 and db.writes(["environments"]) == before_envs


def test_rolled_back_writes_are_not_counted(db: Database) -> None:
    with db.session() as s:
        Users(s).add("ada", password_hash=None, display_name="Ada")
    before = db.writes(USERS)
    with pytest.raises(Conflict), db.session() as s:
        Users(s).add("ada", password_hash=None, display_name="Ada")  # the unique name clashes at commit
    assert db.writes(USERS) == before


def test_a_write_to_a_watched_table_drops_the_entry(db: Database) -> None:
    cache: ReadCache[str] = ReadCache(db, USERS)
    cache.put("k", "v", cache.stamp())
    assert cache.get("k") == "v"
    with db.session() as s:
        Environments(s).add("other", display_name="Other")  # not watched
    assert cache.get("k") == "v"
    with db.session() as s:
        Users(s).add("ada", password_hash=None, display_name="Ada")
    assert cache.get("k") is None


def test_a_value_read_before_a_write_is_never_trusted_after_it(db: Database) -> None:
    cache: ReadCache[str] = ReadCache(db, USERS)
    stamp = cache.stamp()  # taken before reading ...
    with db.session() as s:  # ... another request changes the table meanwhile ...
        Users(s).add("ada", password_hash=None, display_name="Ada")
    cache.put("k", "read before the change", stamp)  # ... so what was read may be stale
    assert cache.get("k") is None


def test_entries_expire_and_the_shorter_lifetime_wins(db: Database) -> None:
    cache: ReadCache[str] = ReadCache(db, USERS, ttl=0.2)
    cache.put("long", "v", cache.stamp())
    cache.put("short", "v", cache.stamp(), ttl=0.05)  # e.g. a token that expires sooner
    cache.put("expired", "v", cache.stamp(), ttl=-1)
    assert cache.get("expired") is None
    time.sleep(0.1)
    assert cache.get("short") is None and cache.get("long") == "v"
    time.sleep(0.15)
    assert cache.get("long") is None


def test_the_cache_is_bounded(db: Database) -> None:
    cache: ReadCache[int] = ReadCache(db, USERS, size=3)
    for n in range(5):
        cache.put(n, n, cache.stamp())
    assert [cache.get(n) for n in range(5)] == [None, None, 2, 3, 4]


def test_concurrent_misses_wait_for_one_read(db: Database) -> None:
    import asyncio
    import threading

    cache: ReadCache[str] = ReadCache(db, USERS)
    reads: list[str] = []
    release = threading.Event()

    def read() -> tuple[str, None]:
        reads.append("read")
        release.wait(5)  # the database is slow: everyone else arrives meanwhile
        return "value", None

    def failing() -> tuple[str, None]:
        reads.append("failed")
        release.wait(5)
        raise Conflict("the read failed")

    async def main() -> None:
        many = [asyncio.create_task(cache.read_through("k", read)) for _ in range(20)]
        await asyncio.sleep(0.05)
        release.set()
        assert await asyncio.gather(*many) == ["value"] * 20
        release.clear()
        broken = [asyncio.create_task(cache.read_through("x", failing)) for _ in range(5)]
        await asyncio.sleep(0.05)
        release.set()
        outcomes = await asyncio.gather(*broken, return_exceptions=True)
        assert all(isinstance(o, Conflict) for o in outcomes)  # every waiter hears the refusal
        assert cache.get("x") is None  # and it is not cached

    asyncio.run(main())
    assert reads == ["read", "failed"]
