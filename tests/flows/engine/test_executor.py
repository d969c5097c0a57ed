"""The embedded executor: runs submitted run ids as tasks, once each, from any thread."""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest

from tether.flows.engine import EmbeddedExecutor


def test_submit_runs_each_id_once_and_survives_failures(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[str] = []

    async def advance(run_id: str) -> None:
        await asyncio.sleep(0.01)
        seen.append(run_id)
        if run_id == "bad":
            raise RuntimeError("boom")

    async def main() -> None:
        executor = EmbeddedExecutor(advance, max_runs=2)
        await executor.start()
        executor.submit("a")
        executor.submit("a")  # already running here: ignored
        executor.submit("bad")
        thread = threading.Thread(target=executor.submit, args=("from-thread",))
        thread.start()
        thread.join()
        await asyncio.sleep(0)
        await executor.drain()
        assert executor.active == 0
        executor.submit("after")
        await executor.drain()
        await executor.stop()

    with caplog.at_level(logging.ERROR, logger="tether.flows"):
        asyncio.run(main())
    assert sorted(seen) == ["a", "after", "bad", "from-thread"]
    assert "run bad stopped with an internal error" in caplog.text


def test_stop_cancels_running_runs() -> None:
    cancelled = asyncio.Event()

    async def advance(run_id: str) -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async def main() -> None:
        executor = EmbeddedExecutor(advance)
        await executor.start()
        executor.submit("long")
        await asyncio.sleep(0.01)
        await executor.stop()
        assert cancelled.is_set()
        with pytest.raises(RuntimeError, match="not started"):
            executor.submit("late")

    asyncio.run(main())
