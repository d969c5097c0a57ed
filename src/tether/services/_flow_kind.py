"""A flow's kind — Stateful or Stateless, as in Logic Apps Standard — and what a stateless flow keeps.

A stateful flow commits its run after every action (history, resume after a crash). A stateless
flow runs in memory: nothing is written while it runs, and of its runs only what its run-history
setting asks for is stored afterwards — failures (the default), one in N, or all (Standard's
``WithStatelessRunHistory``). The kind comes from the flow's create/update request or, as in a
Standard ``workflow.json``, from the top-level ``kind`` beside ``definition``.

Standard runs stateless workflows for at most five minutes and only from triggers that need no
state between runs; Tether holds the same line: a stateless flow has a Request trigger (polling,
webhook subscriptions and schedules keep state or run in the background), and a Wait longer
than the run limit is refused when the flow is saved.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tether.errors import InputError
from tether.flows import FlowDefinition

__all__ = [
    "DEFAULT_RUN_HISTORY",
    "FLOW_KINDS",
    "STATELESS_RUN_SECONDS",
    "RunHistory",
    "check_stateless",
    "document_kind",
    "flow_kind",
]

FLOW_KINDS = ("Stateful", "Stateless")
DEFAULT_RUN_HISTORY = "failures"
STATELESS_RUN_SECONDS = 300.0  # Standard: a stateless run lasts at most 5 minutes
_STATELESS_TRIGGERS = ("Request",)
_WAIT_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800, "month": 2678400}


def flow_kind(value: Any) -> str:
    """``Stateful`` or ``Stateless`` from any casing; raises InputError naming the choices."""
    text = str(value).strip().lower()
    for kind in FLOW_KINDS:
        if kind.lower() == text:
            return kind
    raise InputError(f"flow kind {value!r} is not one of Stateful, Stateless")


def document_kind(document: Any) -> str | None:
    """The ``kind`` a Standard ``workflow.json`` puts beside its ``definition``; None when absent.

    Only a wrapped document has one: a bare definition's top level is triggers and actions.
    """
    if isinstance(document, dict) and isinstance(document.get("definition"), dict) and "kind" in document:
        return flow_kind(document["kind"])
    return None


@dataclass(frozen=True, slots=True)
class RunHistory:
    """Which runs of a stateless flow are stored: ``failures``, ``sampled:N`` (failures and one
    success in N) or ``all``."""

    every: int  # store one success in this many; 0: no successes

    @classmethod
    def parse(cls, text: str) -> RunHistory:
        value = str(text).strip().lower()
        if value == "failures":
            return cls(0)
        if value in ("all", "withstatelessrunhistory"):  # Standard's OperationOptions name for it
            return cls(1)
        if value.startswith("sampled:"):
            count = value.removeprefix("sampled:")
            if count.isdigit() and int(count) >= 1:
                return cls(int(count))
        raise InputError(
            f"run history {text!r} is not one of 'failures', 'sampled:N' (N ≥ 1, one success in N "
            "is kept) or 'all'"
        )

    @property
    def text(self) -> str:
        """The setting as stored and shown."""
        return {0: "failures", 1: "all"}.get(self.every, f"sampled:{self.every}")

    def keeps(self, status: str, successes: int) -> bool:
        """Whether a run that ended with ``status`` is stored; ``successes`` counts the flow's
        successful runs so far in this process, this one included."""
        if status != "Succeeded":
            return True
        return self.every > 0 and successes % self.every == 0


def check_stateless(definition: FlowDefinition, name: str) -> None:
    """Refuse what a stateless flow cannot do, with the reason and the way out."""
    trigger = definition.trigger
    if trigger is not None and trigger.type not in _STATELESS_TRIGGERS:
        raise InputError(
            f"{name}: a stateless flow runs in memory for a Request trigger; its {trigger.type} trigger "
            "needs state between runs or runs in the background — make the flow Stateful"
        )
    for action in _waits(definition.all_actions()):
        seconds = _wait_seconds(action.raw.get("inputs"))
        if seconds is not None and seconds > STATELESS_RUN_SECONDS:
            length = "waits until a moment" if seconds == float("inf") else f"lasts {seconds:g} s"
            raise InputError(
                f"{name}: Wait {action.name!r} {length}, past a stateless run's limit of "
                f"{STATELESS_RUN_SECONDS:g} s — shorten it or make the flow Stateful"
            )


def _waits(actions: Iterable[Any]) -> list[Any]:
    return [a for a in actions if a.type == "Wait"]


def _wait_seconds(inputs: Any) -> float | None:
    """A Wait's length when it is written literally: an ``until`` always counts as too long (it is
    a moment, not a span a run in memory can promise to reach); expressions are left to the run
    limit."""
    if not isinstance(inputs, dict):
        return None
    if inputs.get("until") is not None:
        return float("inf")
    interval = inputs.get("interval")
    if not isinstance(interval, dict):
        return None
    count, unit = interval.get("count"), str(interval.get("unit", "Second")).lower()
    if not isinstance(count, int | float) or unit not in _WAIT_UNITS:
        return None
    return float(count) * _WAIT_UNITS[unit]
