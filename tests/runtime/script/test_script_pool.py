"""The pool's bookkeeping with real sandboxed workers: reuse per isolation key, retirement, slots."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tether.runtime.script import (
    ALLOWED_MODULES,
    ScriptBusy,
    ScriptFailed,
    ScriptLimits,
    ScriptPool,
    ScriptRequest,
    ScriptResponse,
    ScriptTooLarge,
)

QUICK = (
    "class Script(ScriptBase):\n    async def execute(self):\n        return ScriptResponse(200, {}, b'ok')\n"
)
LOOP = "class Script(ScriptBase):\n    async def execute(self):\n        while True:\n            pass\n"


async def _send(request: ScriptRequest) -> ScriptResponse:
    return ScriptResponse(200, {}, b"")


async def _run(pool: ScriptPool, source: str = QUICK, **keys: Any) -> ScriptResponse:
    request = ScriptRequest("GET", "https://api.example.com/", {}, b"")
    return await pool.run(source, request, _send, operation_id="Op", **keys)


def test_a_worker_is_reused_only_for_its_own_isolation_key() -> None:
    async def go() -> list[int]:
        async with ScriptPool(2) as pool:
            started = []
            for key in (
                "connector:a/caller:1",
                "connector:a/caller:1",
                "connector:a/caller:2",
                "connector:a/caller:1",
            ):
                assert (await _run(pool, isolation_key=key)).content == b"ok"
                started.append(pool.started)
            return started

    assert asyncio.run(go()) == [1, 1, 2, 2]


def test_idle_workers_are_retired() -> None:
    async def go() -> int:
        async with ScriptPool(1, limits=ScriptLimits(idle_seconds=0)) as pool:
            await _run(pool, isolation_key="k")
            await _run(pool, isolation_key="k")
            return pool.started

    assert asyncio.run(go()) == 2


@pytest.mark.parametrize(
    ("size", "second_owner", "message"),
    [(4, "alice", "per-owner limit"), (1, "bob", "all 1 script slots were still busy")],
)
def test_a_call_over_the_limits_waits_then_is_refused(size: int, second_owner: str, message: str) -> None:
    limits = ScriptLimits(timeout=2.0, per_owner=1, queue_timeout=0.3)

    async def go() -> BaseException | None:
        async with ScriptPool(size, limits=limits) as pool:
            looping = asyncio.ensure_future(_run(pool, LOOP, isolation_key="a", owner="alice"))
            while pool.running < 1:  # until the loop holds its slot (or failed to start)
                assert not looping.done(), looping
                await asyncio.sleep(0.01)
            try:
                await _run(pool, isolation_key="b", owner=second_owner)
            except ScriptBusy as exc:
                return exc
            finally:
                await asyncio.gather(looping, return_exceptions=True)
            return None

    refused = asyncio.run(go())
    assert isinstance(refused, ScriptBusy) and message in refused.message and refused.status == 503


def test_another_owner_gets_a_slot_while_one_owner_is_at_its_limit() -> None:
    limits = ScriptLimits(timeout=2.0, per_owner=1, queue_timeout=0.3)

    async def go() -> bytes:
        async with ScriptPool(2, limits=limits) as pool:
            looping = asyncio.ensure_future(_run(pool, LOOP, isolation_key="a", owner="alice"))
            while pool.running < 1:
                assert not looping.done(), looping
                await asyncio.sleep(0.01)
            try:
                return (await _run(pool, isolation_key="b", owner="bob")).content
            finally:
                await asyncio.gather(looping, return_exceptions=True)

    assert asyncio.run(go()) == b"ok"


def test_bodies_over_the_message_limit_get_clear_errors() -> None:
    limits = ScriptLimits(max_message=4096)
    forward = (
        "class Script(ScriptBase):\n    async def execute(self):\n"
        "        return await self.context.send(self.context.request)\n"
    )

    async def big_answer(request: ScriptRequest) -> ScriptResponse:
        return ScriptResponse(200, {}, b"x" * 8192)

    async def go() -> tuple[BaseException, BaseException]:
        async with ScriptPool(1, limits=limits) as pool:
            big = ScriptRequest("POST", "https://api.example.com/", {}, b"x" * 8192)
            with pytest.raises(ScriptTooLarge) as request_error:
                await pool.run(QUICK, big, _send, operation_id="Op")
            small = ScriptRequest("GET", "https://api.example.com/", {}, b"")
            with pytest.raises(ScriptFailed) as answer_error:
                await pool.run(forward, small, big_answer, operation_id="Op")
            return request_error.value, answer_error.value

    request_error, answer_error = asyncio.run(go())
    assert "request is too large to hand to custom code" in request_error.message
    assert "over custom code's 4,096-byte limit" in answer_error.message


def test_every_allowed_module_works_inside_the_sandbox() -> None:
    imports = "".join(f"import {name}\n" for name in sorted(ALLOWED_MODULES))
    source = imports + (
        "class Script(ScriptBase):\n    async def execute(self):\n"
        "        paris = zoneinfo.ZoneInfo('Europe/Paris')\n"
        "        when = datetime.datetime(2024, 7, 1, tzinfo=paris).isoformat()\n"
        "        return ScriptResponse(200, {}, when.encode())\n"
    )

    async def go() -> bytes:
        async with ScriptPool(1) as pool:
            return (await _run(pool, source)).content

    assert asyncio.run(go()) == b"2024-07-01T00:00:00+02:00"
