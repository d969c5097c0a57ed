"""One action instance being run: what a handler in ``actions/`` works with.

A handler gets a :class:`Step` and returns an :class:`Outcome` (or raises ``ActionFailure``). The
step evaluates expressions in the right frame, waits on the run's clock within the action's
timeout, records choices that must survive a resume, and runs nested actions for containers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tether.flows._definition import ActionSpec
from tether.flows.engine._errors import ActionTimedOut
from tether.flows.engine._frame import Frame
from tether.flows.engine._model import ActionRecord
from tether.flows.engine._services import EngineServices
from tether.flows.expressions import ExpressionContext, evaluate

if TYPE_CHECKING:
    from tether.flows.engine._runner import Run

__all__ = ["UNSET", "Outcome", "Step"]

UNSET: Any = object()


@dataclass
class Outcome:
    """How a handler ended: outputs for later actions, and the inputs history should show."""

    outputs: Any = None
    inputs: Any = UNSET
    status: str = "Succeeded"
    code: str | None = "OK"
    error: dict[str, Any] | None = None


class Step:
    """The running action: its spec, record, frame and the run it belongs to."""

    def __init__(
        self, run: Run, spec: ActionSpec, record: ActionRecord, frame: Frame, deadline: datetime | None
    ) -> None:
        self.run, self.spec, self.record, self.frame, self.deadline = run, spec, record, frame, deadline

    @property
    def services(self) -> EngineServices:
        return self.run.services

    @property
    def raw(self) -> Mapping[str, Any]:
        return self.spec.raw

    def context(self, frame: Frame | None = None) -> ExpressionContext:
        return self.run.context(frame or self.frame)

    def evaluate(self, value: Any, frame: Frame | None = None) -> Any:
        return evaluate(value, self.context(frame))

    def inputs(self) -> Any:
        """The action's ``inputs`` with every expression evaluated."""
        return self.evaluate(self.spec.inputs)

    def decide(self, name: str, compute: Callable[[], Any]) -> Any:
        """A choice made once per action instance and replayed as made when the run resumes."""
        key = f"{self.record.path}:{name}"
        decisions = self.run.state.decisions
        if key not in decisions:
            decisions[key] = compute()
        return decisions[key]

    async def sleep(self, seconds: float) -> None:
        """Wait on the run's clock; past the action's timeout, end the action as TimedOut."""
        clock = self.services.clock
        if self.deadline is not None:
            left = (self.deadline - clock.now()).total_seconds()
            if seconds >= left:
                await clock.sleep(max(0.0, left))
                raise ActionTimedOut()
        await clock.sleep(seconds)

    def check_deadline(self) -> None:
        if self.deadline is not None and self.services.clock.now() >= self.deadline:
            raise ActionTimedOut()

    async def run_actions(
        self, actions: Mapping[str, ActionSpec], *, prefix: str, frame: Frame | None = None
    ) -> str:
        """Run nested actions (a branch or one loop iteration); returns the branch's status."""
        return await self.run.run_scope(actions, frame or self.frame, prefix)
