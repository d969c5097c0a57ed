"""ISO 8601 durations (``PT1H``, ``P1D``) as seconds, for timeouts, waits and retry intervals."""

from __future__ import annotations

from tether.errors import InputError
from tether.flows.expressions import parse_duration

__all__ = ["duration_seconds"]

_TICKS_PER_SECOND = 10_000_000
_SECONDS_PER_MONTH = 30 * 86400  # timeouts in months are rare; Logic Apps also approximates them


def duration_seconds(text: str) -> float:
    """Seconds in an ISO 8601 duration; raises InputError with the text when it is not one."""
    try:
        duration = parse_duration(text)
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    return duration.months * _SECONDS_PER_MONTH + duration.ticks / _TICKS_PER_SECOND
