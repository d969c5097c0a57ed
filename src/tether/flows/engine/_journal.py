"""Where a run's progress goes: the journal interface, and an in-memory one for tests and tools.

The engine calls the journal after every action (and before a side-effecting one starts), and a
durable journal commits by then; that is what lets a run resume after its process dies. A durable
journal may hold an action without side effects for its run's next commit (the database journal
does): redoing such an action after a crash only evaluates it again from committed state. The
database journal lives in the services layer (flows may not import the store); a Celery task uses
the same engine with that journal, so embedded and distributed runs share one code path.
A stateless flow (Logic Apps Standard's ``kind: Stateless``) runs the same engine with a
:class:`StatelessJournal`, which commits nothing: the run's state lives only in the engine.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, Protocol

from tether.flows.engine._model import ActionRecord, RunState

__all__ = ["MemoryJournal", "RunJournal", "StatelessJournal"]


class RunJournal(Protocol):
    """Durable progress of one run. Each method returns once the change is committed, except
    ``finished`` for an action without side effects, which may be committed with the next change."""

    async def started(self, record: ActionRecord, state: RunState) -> None:
        """An action with side effects is about to run (history shows it running)."""

    async def finished(self, record: ActionRecord, state: RunState) -> None:
        """An action ended: store it with the run's current variables and decisions."""

    async def responded(self, response: dict[str, Any]) -> None:
        """A Response action produced the answer for a waiting Request caller."""

    async def cancel_requested(self) -> bool:
        """Whether someone asked to cancel this run (checked between actions)."""


class MemoryJournal:
    """A journal kept in memory; ``fail_after`` makes it raise, simulating a crash mid-run.

    ``snapshot()`` returns the state a resumed engine would load, as a durable journal would
    (finished records plus the one in flight).
    """

    def __init__(self, state: RunState | None = None, *, fail_after: int | None = None) -> None:
        self.state = copy.deepcopy(state) if state is not None else RunState()
        self.commits = 0
        self.fail_after = fail_after
        self.cancel = False
        self.responses: list[dict[str, Any]] = []

    def _commit(self, record: ActionRecord, state: RunState) -> None:
        self.state.records[record.path] = copy.deepcopy(record)
        self.state.variables = copy.deepcopy(state.variables)
        self.state.decisions = copy.deepcopy(state.decisions)
        self.commits += 1

    async def started(self, record: ActionRecord, state: RunState) -> None:
        self._commit(record, state)

    async def finished(self, record: ActionRecord, state: RunState) -> None:
        if self.fail_after is not None and self.commits >= self.fail_after:
            raise SimulatedCrash(f"journal stopped after {self.commits} commits")
        self._commit(record, state)

    async def responded(self, response: dict[str, Any]) -> None:
        self.state.response = response
        self.responses.append(response)

    async def cancel_requested(self) -> bool:
        return self.cancel

    def snapshot(self) -> RunState:
        return copy.deepcopy(self.state)


class StatelessJournal:
    """A journal that keeps nothing: a stateless run's progress lives only in the engine's state.

    No copies and no commits, so a run costs only its actions; a run that dies with its process
    is gone (as in Logic Apps Standard). A Response's answer goes to ``on_response`` at once
    (there is no commit to wait for); ``cancelled`` is asked between actions.
    """

    def __init__(
        self,
        *,
        on_response: Callable[[dict[str, Any]], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> None:
        self._on_response = on_response
        self._cancelled = cancelled
        self.response: dict[str, Any] | None = None

    async def started(self, record: ActionRecord, state: RunState) -> None:
        return None

    async def finished(self, record: ActionRecord, state: RunState) -> None:
        return None

    async def responded(self, response: dict[str, Any]) -> None:
        self.response = response
        if self._on_response is not None:
            self._on_response(response)

    async def cancel_requested(self) -> bool:
        return self._cancelled is not None and self._cancelled()


class SimulatedCrash(RuntimeError):
    """Raised by :class:`MemoryJournal` to stop a run as a killed process would."""
