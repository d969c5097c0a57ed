"""What the custom-code sandbox costs per call: worker start (cold call) and warm-call latency.

Runs ``ScriptPool`` in process with a trivial script that calls ``context.send`` once (the
send is answered in process, so only the worker round trips are measured):

- ``cold``  a fresh pool per round: the first call, worker start included;
- ``warm``  calls on one pool and one isolation key, after a first call started the worker;
- ``starved``  one call of owner B while six scripts of owner A loop until their 5 s timeout,
  on the server's default pool (issue 10 measured 20 s before per-owner slots).

``--src DIR`` puts another checkout's ``src`` first on the import path, to compare with the
code before the sandbox (e.g. ``--src /work/main/src`` on a main without it). Prints a table
and, with ``--json``, one JSON line.

Run: ``.venv/bin/python bench/bench_script_sandbox.py [--rounds 10] [--calls 300]``
(needs ``bwrap``: ``apt-get install -y bubblewrap``). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import inspect
import json
import statistics
import sys
import time
from typing import Any

SCRIPT = """
class Script(ScriptBase):
    async def execute(self):
        response = await self.context.send(self.context.request)
        response.set_header("X-Scripted", "1")
        return response
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--src", help="import tether from this src folder instead")
    parser.add_argument("--rounds", type=int, default=10, help="cold starts to time")
    parser.add_argument("--calls", type=int, default=300, help="warm calls to time")
    parser.add_argument("--json", action="store_true", help="print one JSON line instead of a table")
    parser.add_argument("--no-starved", action="store_true", help="skip the starvation case (~15 s before)")
    args = parser.parse_args()
    if args.src:
        sys.path.insert(0, args.src)
    result = asyncio.run(_measure(args.rounds, args.calls))
    if not args.no_starved:
        result["starved"] = asyncio.run(_starved())
    result["code"] = args.src or "this checkout"
    if args.json:
        print(json.dumps(result))
        return
    print(f"custom code per call ({result['code']}), milliseconds")
    for name in ("cold", "warm", "starved"):  # starved: one call, so median = p95
        row = result.get(name)
        if row is None:
            continue
        print(f"  {name:5}  median {row['median_ms']:8.2f}  p95 {row['p95_ms']:8.2f}  n={row['n']}")


async def _measure(rounds: int, calls: int) -> dict[str, Any]:
    from tether.runtime.script import ScriptPool, ScriptRequest, ScriptResponse

    async def send(request: Any) -> Any:
        return ScriptResponse(200, {"Content-Type": "application/json"}, b'{"ok": true}')

    def request() -> Any:
        return ScriptRequest("GET", "https://api.example.com/items", {"Accept": "application/json"}, b"")

    keyed = "isolation_key" in inspect.signature(ScriptPool.run).parameters
    extra = {"isolation_key": "bench"} if keyed else {}

    cold: list[float] = []
    for _ in range(rounds):
        async with ScriptPool(1) as pool:
            started = time.perf_counter()
            await pool.run(SCRIPT, request(), send, operation_id="Bench", **extra)
            cold.append(time.perf_counter() - started)

    warm: list[float] = []
    async with ScriptPool(1) as pool:
        await pool.run(SCRIPT, request(), send, operation_id="Bench", **extra)
        for _ in range(calls):
            started = time.perf_counter()
            await pool.run(SCRIPT, request(), send, operation_id="Bench", **extra)
            warm.append(time.perf_counter() - started)
    return {"cold": _summary(cold), "warm": _summary(warm)}


async def _starved() -> dict[str, Any]:
    """Owner B's call latency while owner A's six looping scripts hold what they can."""
    from tether.runtime.script import ScriptError, ScriptPool, ScriptRequest, ScriptResponse

    loop = "class Script(ScriptBase):\n    async def execute(self):\n        while True:\n            pass\n"
    keyed = "isolation_key" in inspect.signature(ScriptPool.run).parameters

    async def send(request: Any) -> Any:
        return ScriptResponse(200, {}, b"{}")

    async def call(source: str, owner: str) -> None:
        extra = {"isolation_key": owner, "owner": owner} if keyed else {}
        request = ScriptRequest("GET", "https://api.example.com/items", {}, b"")
        with contextlib.suppress(ScriptError):  # the loops time out (or are refused as busy)
            await pool.run(source, request, send, operation_id="Bench", **extra)

    async with ScriptPool() as pool:
        await call(SCRIPT, "warm-up")
        looping = [asyncio.ensure_future(call(loop, "owner-a")) for _ in range(6)]
        await asyncio.sleep(0.5)  # a bench, not a test: let the loops take their slots
        started = time.perf_counter()
        await call(SCRIPT, "owner-b")
        took = time.perf_counter() - started
        await asyncio.gather(*looping)
    return _summary([took])


def _summary(seconds: list[float]) -> dict[str, Any]:
    ordered = sorted(seconds)
    return {
        "n": len(ordered),
        "median_ms": statistics.median(ordered) * 1000,
        "p95_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000,
    }


if __name__ == "__main__":
    main()
