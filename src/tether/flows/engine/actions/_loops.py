"""Loops: For each (concurrent by default, or Sequential) and Do until (count and timeout limits).

Each iteration's actions are separate instances (``Loop#3/Send``) with their own records, so a
resumed loop redoes only the iterations not finished.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import timedelta
from functools import partial
from typing import Any

from tether.flows.engine._conditions import check_condition
from tether.flows.engine._durations import duration_seconds
from tether.flows.engine._errors import ActionFailure
from tether.flows.engine._frame import Frame
from tether.flows.engine._step import Outcome, Step
from tether.flows.engine.actions._registry import action

__all__ = ["DEFAULT_FOREACH_CONCURRENCY", "DEFAULT_UNTIL_COUNT", "DEFAULT_UNTIL_TIMEOUT"]

DEFAULT_FOREACH_CONCURRENCY = 20
MAX_FOREACH_CONCURRENCY = 50
DEFAULT_UNTIL_COUNT = 60
DEFAULT_UNTIL_TIMEOUT = "PT1H"


def concurrency(raw: Mapping[str, Any]) -> int:
    """Iterations at once: 1 when Sequential, else ``repetitions`` (default 20, at most 50)."""
    if "sequential" in str(raw.get("operationOptions", "")).lower():
        return 1
    config = raw.get("runtimeConfiguration")
    limits = config.get("concurrency") if isinstance(config, Mapping) else None
    value = limits.get("repetitions") if isinstance(limits, Mapping) else None
    return max(1, min(MAX_FOREACH_CONCURRENCY, int(value))) if value else DEFAULT_FOREACH_CONCURRENCY


@action("Foreach", container=True)
async def foreach(step: Step) -> Outcome:
    def items() -> list[Any]:
        value = step.evaluate(step.raw.get("foreach"))
        if value is None:
            return []
        if not isinstance(value, list):
            raise ActionFailure(
                "InvalidTemplate",
                f"The 'foreach' expression must evaluate to an array, not {type(value).__name__}.",
            )
        return value

    values = step.decide("items", items)
    children = step.spec.branches.get("actions", {})
    width = concurrency(step.raw)
    gate = asyncio.Semaphore(width)
    name, path = step.spec.name, step.record.path

    async def iteration(index: int, item: Any) -> str:
        async with gate:
            frame = step.frame.child(loop=name, item=item)
            return await step.run_actions(children, prefix=f"{path}#{index}/", frame=frame)

    if width == 1:  # Sequential: in order, one at a time, without a task per item
        statuses = [await iteration(i, v) for i, v in enumerate(values)]
    else:
        statuses = list(await asyncio.gather(*(iteration(i, v) for i, v in enumerate(values))))
    failed = sum(1 for s in statuses if s != "Succeeded")
    if failed:
        raise ActionFailure("ActionFailed", f"{failed} of {len(values)} iterations failed.")
    return Outcome(inputs={"foreach": values} if len(values) <= 100 else {"count": len(values)})


@action("Until", container=True, owns_limit=True)
async def until(step: Step) -> Outcome:
    limit = step.raw["limit"] if isinstance(step.raw.get("limit"), Mapping) else {}
    count = int(step.evaluate(limit.get("count", DEFAULT_UNTIL_COUNT)))
    timeout = duration_seconds(str(step.evaluate(limit.get("timeout", DEFAULT_UNTIL_TIMEOUT))))
    ends = (step.record.start or step.services.clock.now()) + timedelta(seconds=timeout)
    children = step.spec.branches.get("actions", {})
    name, path, clock = step.spec.name, step.record.path, step.services.clock
    index = 0
    while True:
        frame = step.frame.child(loop=name, index=index)
        status = await step.run_actions(children, prefix=f"{path}#{index}/", frame=frame)
        if status != "Succeeded":
            raise ActionFailure("ActionFailed", f"Iteration {index} of the loop failed.")
        done = step.decide(f"until#{index}", partial(_condition_met, step, frame))
        index += 1
        if done:
            return Outcome(inputs={"iterations": index})
        if index >= count:
            return Outcome(inputs={"iterations": index, "limitReached": "count"})
        if clock.now() >= ends:
            return Outcome(inputs={"iterations": index, "limitReached": "timeout"})


def _condition_met(step: Step, frame: Frame) -> bool:
    """The until loop's expression, evaluated against one iteration's frame."""
    return check_condition(step.raw.get("expression"), step.context(frame))
