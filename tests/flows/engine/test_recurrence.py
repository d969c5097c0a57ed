"""Recurrence schedules: next tick for each frequency, schedules, time zones and DST."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tether.flows.engine import Recurrence, RecurrenceError


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("recurrence", "after", "expected"),
    [
        pytest.param(
            {"frequency": "Second", "interval": 30, "startTime": "2026-01-01T00:00:00Z"},
            "2026-01-01T00:01:10",
            "2026-01-01T00:01:30",
            id="seconds",
        ),
        pytest.param(
            {"frequency": "Minute", "interval": 15, "startTime": "2026-01-01T00:05:00Z"},
            "2026-01-01T10:00:00",
            "2026-01-01T10:05:00",
            id="minutes",
        ),
        pytest.param(
            {"frequency": "Hour", "interval": 2, "startTime": "2026-01-01T01:00:00Z"},
            "2025-12-01T00:00:00",
            "2026-01-01T01:00:00",
            id="before-start",
        ),
        pytest.param(
            {
                "frequency": "Day",
                "interval": 1,
                "startTime": "2026-01-01T09:30:00",
                "timeZone": "W. Europe Standard Time",
            },
            "2026-07-01T12:00:00",
            "2026-07-02T07:30:00",
            id="day-in-zone-summer",
        ),
        pytest.param(
            {
                "frequency": "Day",
                "interval": 1,
                "startTime": "2026-01-01T09:30:00",
                "timeZone": "W. Europe Standard Time",
            },
            "2026-01-10T12:00:00",
            "2026-01-11T08:30:00",
            id="day-in-zone-winter",
        ),
        pytest.param(
            {
                "frequency": "Day",
                "interval": 2,
                "startTime": "2026-01-01T00:00:00Z",
                "schedule": {"hours": [6, 18], "minutes": [15]},
            },
            "2026-01-01T07:00:00",
            "2026-01-01T18:15:00",
            id="day-schedule",
        ),
        pytest.param(
            {
                "frequency": "Day",
                "interval": 2,
                "startTime": "2026-01-01T00:00:00Z",
                "schedule": {"hours": [6, 18], "minutes": [15]},
            },
            "2026-01-01T19:00:00",
            "2026-01-03T06:15:00",
            id="day-schedule-interval",
        ),
        pytest.param(
            {
                "frequency": "Week",
                "interval": 1,
                "startTime": "2026-01-01T00:00:00Z",
                "schedule": {"weekDays": ["Monday", "Friday"], "hours": [9], "minutes": [0]},
            },
            "2026-01-02T10:00:00",
            "2026-01-05T09:00:00",
            id="week-days",
        ),
        pytest.param(
            {"frequency": "Month", "interval": 1, "startTime": "2026-01-31T08:00:00Z"},
            "2026-02-01T00:00:00",
            "2026-03-31T08:00:00",
            id="month-day-31",
        ),
        pytest.param(
            {
                "frequency": "Month",
                "interval": 1,
                "startTime": "2026-01-01T00:00:00Z",
                "schedule": {"monthDays": [15], "hours": [12], "minutes": [0]},
            },
            "2026-01-20T00:00:00",
            "2026-02-15T12:00:00",
            id="month-days",
        ),
    ],
)
def test_next_tick(recurrence: dict[str, Any], after: str, expected: str) -> None:
    assert Recurrence.from_trigger({"recurrence": recurrence}).next_after(_utc(after)) == _utc(expected)


def test_without_start_time_counts_from_the_anchor() -> None:
    recurrence = Recurrence.from_trigger({"recurrence": {"frequency": "Minute", "interval": 5}})
    anchor = _utc("2026-03-01T10:02:00")
    assert recurrence.next_after(anchor, anchor=anchor) == _utc("2026-03-01T10:07:00")
    assert recurrence.next_after(_utc("2026-03-01T10:08:00"), anchor=anchor) == _utc("2026-03-01T10:12:00")


@pytest.mark.parametrize(
    "recurrence",
    [
        pytest.param({"frequency": "Fortnight"}, id="frequency"),
        pytest.param({"frequency": "Day", "interval": 0}, id="interval"),
        pytest.param({"frequency": "Day", "timeZone": "Mars Standard Time"}, id="zone"),
        pytest.param({"frequency": "Week", "schedule": {"weekDays": ["Funday"]}}, id="weekday"),
        pytest.param({"frequency": "Day", "schedule": {"hours": [25]}}, id="hour"),
    ],
)
def test_bad_recurrences(recurrence: dict[str, Any]) -> None:
    with pytest.raises(RecurrenceError):
        Recurrence.from_trigger({"recurrence": recurrence})
