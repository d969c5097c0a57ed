"""The values a run is made of: action records, run state, outcomes, and the statuses they carry.

An :class:`ActionRecord` is both what run history shows and what the engine needs to resume: its
``path`` names one *instance* of an action (``Loop#3/Send`` is iteration 3 of ``Send``), so a
resumed run can tell a finished instance (reuse its result) from the one in flight (run it again
with the same idempotency key).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "ACTION_STATUSES",
    "FINAL_ACTION_STATUSES",
    "FINAL_RUN_STATUSES",
    "RUN_STATUSES",
    "ActionRecord",
    "RunOutcome",
    "RunState",
    "isoformat",
    "parse_time",
]

RUN_STATUSES = ("Waiting", "Running", "Succeeded", "Failed", "Cancelled")
FINAL_RUN_STATUSES = frozenset({"Succeeded", "Failed", "Cancelled"})
ACTION_STATUSES = ("Running", "Succeeded", "Failed", "Skipped", "TimedOut", "Cancelled")
FINAL_ACTION_STATUSES = frozenset({"Succeeded", "Failed", "Skipped", "TimedOut", "Cancelled"})


def isoformat(moment: datetime | None) -> str | None:
    """Logic Apps' timestamp shape (``2026-11-27T05:13:34.1234567Z`` style, here microseconds)."""
    if moment is None:
        return None
    if moment.tzinfo is UTC:  # the engine's clocks: one C call, no conversion (or cache lookup)
        return moment.isoformat(timespec="microseconds")[:-6] + "Z"
    return _isoformat(moment)


@functools.lru_cache(maxsize=1024)  # a record's times are written several times (results, history)
def _isoformat(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass
class ActionRecord:
    """One action instance's result; ``inputs``/``outputs`` are the real values (history redacts them).

    ``secure_inputs``/``secure_outputs`` come from ``runtimeConfiguration.secureData`` and hide the
    values from run history, while later actions still read them.
    """

    path: str
    name: str
    type: str
    parent: str = ""
    status: str = "Running"
    seq: int = 0
    start: datetime | None = None
    end: datetime | None = None
    inputs: Any = None
    outputs: Any = None
    error: dict[str, Any] | None = None
    code: str | None = None
    retries: list[dict[str, Any]] = field(default_factory=list)
    idempotency_key: str | None = None
    iteration: int | None = None
    secure_inputs: bool = False
    secure_outputs: bool = False

    @property
    def finished(self) -> bool:
        return self.status in FINAL_ACTION_STATUSES

    def result(self) -> dict[str, Any]:
        """The object ``actions('x')`` and ``result('scope')`` return (Logic Apps' shape)."""
        result: dict[str, Any] = {
            "name": self.name,
            "startTime": isoformat(self.start),
            "endTime": isoformat(self.end),
            "status": self.status,
            "code": self.code,
        }
        if self.inputs is not None:
            result["inputs"] = self.inputs
        if self.outputs is not None:
            result["outputs"] = self.outputs
        if self.error is not None:
            result["error"] = self.error
        return result

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "name": self.name,
            "type": self.type,
            "parent": self.parent,
            "status": self.status,
            "seq": self.seq,
            "start": isoformat(self.start),
            "end": isoformat(self.end),
            "inputs": self.inputs,
            "outputs": self.outputs,
            "error": self.error,
            "code": self.code,
            "retries": self.retries,
            "idempotency_key": self.idempotency_key,
            "iteration": self.iteration,
            "secure_inputs": self.secure_inputs,
            "secure_outputs": self.secure_outputs,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ActionRecord:
        values = dict(data)
        values["start"] = parse_time(values.get("start"))
        values["end"] = parse_time(values.get("end"))
        return cls(**values)


@dataclass
class RunState:
    """What a run has done so far: loaded from the journal to resume, empty for a new run.

    ``decisions`` holds choices made on the way (an If's branch, a Foreach's items, each Until
    iteration's verdict) so a resumed run walks the same path even if variables changed since.
    """

    records: dict[str, ActionRecord] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)
    decisions: dict[str, Any] = field(default_factory=dict)
    response: dict[str, Any] | None = None

    def next_seq(self) -> int:
        return max((r.seq for r in self.records.values()), default=0) + 1


@dataclass(frozen=True)
class RunOutcome:
    """How a run ended: status, the run error (``{code, message}``), the definition's outputs."""

    status: str
    error: dict[str, Any] | None = None
    outputs: dict[str, Any] = field(default_factory=dict)
    response: dict[str, Any] | None = None
