"""Recurrence schedules: when a Recurrence trigger's next tick is.

``frequency`` Second…Month times ``interval``, counted from ``startTime`` (or the moment the flow
was enabled), in ``timeZone`` (a Windows zone name, as Logic Apps takes it, or an IANA one), so a
daily 09:00 tick stays at 09:00 across DST changes. ``schedule`` (hours, minutes, weekDays,
monthDays) picks the exact times within each selected day/week/month.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tether.errors import InputError
from tether.flows.expressions._dotnet._zones import resolve_zone

__all__ = ["FREQUENCIES", "Recurrence", "RecurrenceError"]

FREQUENCIES = ("Second", "Minute", "Hour", "Day", "Week", "Month")
_FIXED = {"Second": 1, "Minute": 60, "Hour": 3600}
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_SEARCH_DAYS = 3 * 366


class RecurrenceError(InputError):
    """A Recurrence trigger that cannot be scheduled."""

    code = "invalid-recurrence"


@dataclass(frozen=True)
class Recurrence:
    """A parsed ``recurrence`` object; :meth:`next_after` gives the next tick in UTC."""

    frequency: str
    interval: int
    zone: ZoneInfo
    start: datetime | None = None  # local wall time in ``zone``
    hours: tuple[int, ...] = ()
    minutes: tuple[int, ...] = ()
    week_days: tuple[int, ...] = ()
    month_days: tuple[int, ...] = ()

    @classmethod
    def from_trigger(cls, raw: Mapping[str, Any]) -> Recurrence:
        """Read a Recurrence trigger (or its ``recurrence`` object)."""
        recurrence = raw.get("recurrence", raw)
        if not isinstance(recurrence, Mapping):
            raise RecurrenceError("a Recurrence trigger needs a 'recurrence' object")
        frequency = str(recurrence.get("frequency", "")).capitalize()
        if frequency not in FREQUENCIES:
            raise RecurrenceError(
                f"recurrence frequency must be one of {', '.join(FREQUENCIES)}, not {frequency!r}"
            )
        try:
            interval = int(recurrence.get("interval", 1))
        except (TypeError, ValueError) as exc:
            raise RecurrenceError("recurrence interval must be a whole number") from exc
        if interval < 1:
            raise RecurrenceError("recurrence interval must be at least 1")
        zone_name = recurrence.get("timeZone")
        try:
            zone = resolve_zone(str(zone_name)) if zone_name else ZoneInfo("UTC")
        except LookupError as exc:
            raise RecurrenceError(str(exc)) from exc
        start = None
        if recurrence.get("startTime"):
            try:
                start = datetime.fromisoformat(str(recurrence["startTime"]).replace("Z", "+00:00"))
            except ValueError as exc:
                raise RecurrenceError(
                    f"startTime {recurrence['startTime']!r} is not an ISO 8601 time"
                ) from exc
            # With a zone offset the time is absolute; without one it is wall time in timeZone.
            start = start.astimezone(zone).replace(tzinfo=None) if start.tzinfo else start
        schedule = recurrence["schedule"] if isinstance(recurrence.get("schedule"), Mapping) else {}
        return cls(
            frequency,
            interval,
            zone,
            start,
            hours=_ints(schedule.get("hours"), 0, 23),
            minutes=_ints(schedule.get("minutes"), 0, 59),
            week_days=tuple(sorted(_weekday(d) for d in schedule.get("weekDays") or [])),
            month_days=_ints(schedule.get("monthDays"), 1, 31),
        )

    def next_after(self, after: datetime, *, anchor: datetime | None = None) -> datetime:
        """The first tick strictly after ``after`` (UTC). ``anchor`` stands in for a missing startTime."""
        origin = self.start or (anchor or after).astimezone(self.zone).replace(tzinfo=None, microsecond=0)
        after_local = after.astimezone(self.zone).replace(tzinfo=None)
        if self.frequency in _FIXED and not (self.hours or self.minutes):
            step = _FIXED[self.frequency] * self.interval
            origin_utc = _to_utc(origin, self.zone)
            if after < origin_utc:
                return origin_utc
            count = int((after - origin_utc).total_seconds() // step) + 1
            return origin_utc + timedelta(seconds=count * step)
        for tick in self._local_ticks(origin, max(after_local, origin - timedelta(seconds=1))):
            utc = _to_utc(tick, self.zone)
            if utc > after and tick >= origin:
                return utc
        raise RecurrenceError("the schedule never fires; check its hours, minutes, weekDays and monthDays")

    def _local_ticks(self, origin: datetime, after: datetime) -> Iterator[datetime]:
        hours = self.hours or (origin.hour,)
        minutes = self.minutes or (origin.minute,)
        second = 0 if (self.hours or self.minutes) else origin.second
        if self.frequency in _FIXED:  # Hour/Minute with a schedule: every selected minute of selected hours
            hours = self.hours or tuple(range(24))
        day = after.date()
        for _ in range(_SEARCH_DAYS * self.interval):
            if self._day_selected(day, origin.date()):
                for hour in sorted(hours):
                    for minute in sorted(minutes):
                        tick = datetime(day.year, day.month, day.day, hour, minute, second)
                        if tick > after:
                            yield tick
            day += timedelta(days=1)

    def _day_selected(self, day: date, first: date) -> bool:
        if self.frequency == "Day":
            return (day - first).days % self.interval == 0
        if self.frequency == "Week":
            days = self.week_days or (first.weekday(),)
            weeks = (
                (day - timedelta(days=day.weekday())) - (first - timedelta(days=first.weekday()))
            ).days // 7
            return day.weekday() in days and weeks % self.interval == 0
        if self.frequency == "Month":
            months = (day.year - first.year) * 12 + day.month - first.month
            return day.day in (self.month_days or (first.day,)) and months % self.interval == 0
        return True


def _to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    return local.replace(tzinfo=zone).astimezone(UTC)


def _ints(values: Any, low: int, high: int) -> tuple[int, ...]:
    if not values:
        return ()
    items = values if isinstance(values, list) else [values]
    try:
        numbers = tuple(sorted({int(v) for v in items}))
    except (TypeError, ValueError) as exc:
        raise RecurrenceError(f"schedule values must be numbers, not {values!r}") from exc
    if any(not low <= n <= high for n in numbers):
        raise RecurrenceError(f"schedule values must be between {low} and {high}, not {values!r}")
    return numbers


def _weekday(name: Any) -> int:
    for index, day in enumerate(_WEEKDAYS):
        if str(name).lower() == day.lower():
            return index
    raise RecurrenceError(f"unknown week day {name!r}; use {', '.join(_WEEKDAYS)}")
