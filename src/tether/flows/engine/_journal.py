"""Where a run's progress goes: the journal interface, and an in-memory one for tests and tools.

The engine calls the journal after every action (and before a side-effecting one starts), and a
durable journal commits by then; that is what lets a run resume after its process dies. A durable
journal may hold an action without side effects for its run's next commit (the database journal
does): redoing such an action after a crash only evaluates it again from committed state. The
database journal lives in the services layer (flows may not import the store); a Celery task uses
the same engine with that journal, so embedded and distributed runs share one code path.
"""

from __future__ import annotations

import copy
from typing import Any, Protocol

from tether.flows.engine._model import ActionRecord, RunState

__all__ = ["MemoryJournal", "RunJournal"]


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


class SimulatedCrash(RuntimeError):
    """Raised by :class:`MemoryJournal` to stop a run as a killed process would."""
