"""Date and time functions: addDays, addToTime, convertTimeZone, formatDateTime, parseDateTime, utcNow...

Timestamps are read like .NET's ``DateTime.Parse`` and written with .NET format strings (default
``o``: ``yyyy-MM-ddTHH:mm:ss.fffffffK``), keeping 100 ns precision and whether the input was UTC.
Time zones are Windows names (``Pacific Standard Time``) as Logic Apps takes them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from .._context import ExpressionContext
from .._dotnet._datetime_format import FormatError, format_timestamp, parse_exact
from .._dotnet._timestamps import (
    TICKS_PER_DAY,
    TICKS_PER_SECOND,
    Timestamp,
    format_timespan,
    parse_duration,
    parse_timestamp,
)
from .._dotnet._zones import local_to_utc, resolve_zone, utc_to_local
from ._registry import FunctionError, expect_int, expect_number, expect_string, register

_UNIT_TICKS = {
    "second": TICKS_PER_SECOND,
    "minute": 60 * TICKS_PER_SECOND,
    "hour": 3600 * TICKS_PER_SECOND,
    "day": TICKS_PER_DAY,
    "week": 7 * TICKS_PER_DAY,
}
_UNIT_MONTHS = {"month": 1, "year": 12}


def _stamp(function: str, index: int, value: Any, locale: str | None = None) -> Timestamp:
    text = expect_string(function, index, value)
    try:
        return parse_timestamp(text, locale)
    except ValueError as exc:
        raise FunctionError(
            f"The template language function '{function}' expects its {'first' if index == 0 else 'second'} "
            f"parameter to be a timestamp; '{text}' isn't one (use ISO 8601, for example "
            "'2018-03-15T13:00:00Z').",
            argument=index,
        ) from exc


def _format(function: str, stamp: Timestamp, fmt: Any, index: int, locale: Any = None) -> str:
    spec = None if fmt is None else expect_string(function, index, fmt)
    culture = None if locale is None else expect_string(function, index + 1, locale)
    try:
        return format_timestamp(stamp, spec, culture)
    except FormatError as exc:
        raise FunctionError(f"The format '{spec}' isn't valid: {exc}.", argument=index) from exc
    except LookupError as exc:
        raise FunctionError(f"{exc}.", argument=index + 1) from exc


def _now(context: ExpressionContext) -> Timestamp:
    value = context.clock()
    if isinstance(value, str):
        return Timestamp(parse_timestamp(value).ticks, "utc")
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return Timestamp.from_datetime(value)


def _shift(function: str, stamp: Timestamp, interval: Any, unit: Any, sign: int, index: int) -> Timestamp:
    try:
        if isinstance(interval, str) and unit is None:
            # Extension: an ISO 8601 duration ('P1DT2H') in place of interval and unit.
            return parse_duration(interval).add_to(stamp, sign)
        amount = expect_int(function, index, interval) * sign
        name = expect_string(function, index + 1, unit).strip().lower().removesuffix("s")
        if name in _UNIT_TICKS:
            return stamp.add_ticks(amount * _UNIT_TICKS[name])
        if name in _UNIT_MONTHS:
            return stamp.add_months(amount * _UNIT_MONTHS[name])
    except ValueError as exc:
        raise FunctionError(f"{exc}.", argument=index) from exc
    raise FunctionError(
        f"The time unit '{unit}' isn't valid: use Second, Minute, Hour, Day, Week, Month or Year.",
        argument=index + 1,
    )


def _add(function: str, ticks_per_unit: int) -> None:
    def impl(context: ExpressionContext, timestamp: Any, amount: Any, fmt: Any = None) -> str:
        stamp = _stamp(function, 0, timestamp)
        number = expect_number(function, 1, amount)
        try:
            stamp = stamp.add_ticks(round(float(number) * ticks_per_unit))
        except ValueError as exc:
            raise FunctionError(f"{exc}.", argument=1) from exc
        return _format(function, stamp, fmt, 2)

    register(function, 2, 3)(impl)


_add("addDays", TICKS_PER_DAY)
_add("addHours", 3600 * TICKS_PER_SECOND)
_add("addMinutes", 60 * TICKS_PER_SECOND)
_add("addSeconds", TICKS_PER_SECOND)


@register("addToTime", 2, 4)
def add_to_time(
    context: ExpressionContext, timestamp: Any, interval: Any, unit: Any = None, fmt: Any = None
) -> str:
    return _format(
        "addToTime", _shift("addToTime", _stamp("addToTime", 0, timestamp), interval, unit, 1, 1), fmt, 3
    )


@register("subtractFromTime", 2, 4)
def subtract_from_time(
    context: ExpressionContext, timestamp: Any, interval: Any, unit: Any = None, fmt: Any = None
) -> str:
    stamp = _shift("subtractFromTime", _stamp("subtractFromTime", 0, timestamp), interval, unit, -1, 1)
    return _format("subtractFromTime", stamp, fmt, 3)


@register("getFutureTime", 1, 3)
def get_future_time(context: ExpressionContext, interval: Any, unit: Any = None, fmt: Any = None) -> str:
    return _format("getFutureTime", _shift("getFutureTime", _now(context), interval, unit, 1, 0), fmt, 2)


@register("getPastTime", 1, 3)
def get_past_time(context: ExpressionContext, interval: Any, unit: Any = None, fmt: Any = None) -> str:
    return _format("getPastTime", _shift("getPastTime", _now(context), interval, unit, -1, 0), fmt, 2)


@register("utcNow", 0, 1)
def utc_now(context: ExpressionContext, fmt: Any = None) -> str:
    return _format("utcNow", _now(context), fmt, 0)


@register("formatDateTime", 1, 3)
def format_date_time(context: ExpressionContext, timestamp: Any, fmt: Any = None, locale: Any = None) -> str:
    return _format("formatDateTime", _stamp("formatDateTime", 0, timestamp), fmt, 1, locale)


@register("parseDateTime", 1, 3)
def parse_date_time(context: ExpressionContext, timestamp: Any, locale: Any = None, fmt: Any = None) -> str:
    text = expect_string("parseDateTime", 0, timestamp)
    culture = None if locale is None else expect_string("parseDateTime", 1, locale)
    try:
        if fmt is not None:
            stamp = parse_exact(text, expect_string("parseDateTime", 2, fmt), culture)
        else:
            stamp = parse_timestamp(text, culture)
    except LookupError as exc:
        raise FunctionError(f"{exc}.", argument=1) from exc
    except FormatError as exc:
        raise FunctionError(f"The format '{fmt}' isn't valid: {exc}.", argument=2) from exc
    except ValueError as exc:
        raise FunctionError(
            f"The template language function 'parseDateTime' couldn't read a timestamp from '{text}': {exc}.",
            argument=0,
        ) from exc
    return format_timestamp(stamp)


def _zone(function: str, index: int, value: Any) -> Any:
    try:
        return resolve_zone(expect_string(function, index, value))
    except LookupError as exc:
        raise FunctionError(f"{exc}.", argument=index) from exc


def _convert(function: str, stamp: Timestamp, source: Any, target: Any) -> Timestamp:
    """Move a timestamp from zone ``source`` (ignored for UTC timestamps) to zone ``target``."""
    value = stamp.datetime
    try:
        utc = value if stamp.kind == "utc" or source is None else local_to_utc(value, source)
    except ValueError as exc:
        raise FunctionError(f"{exc}.", argument=0) from exc
    if target is None:
        return Timestamp.from_datetime(utc, "utc", stamp.sub_micro)
    local = utc_to_local(utc, target)
    return Timestamp.from_datetime(local, "utc" if target.key == "UTC" else "unspecified", stamp.sub_micro)


@register("convertFromUtc", 2, 3)
def convert_from_utc(context: ExpressionContext, timestamp: Any, zone: Any, fmt: Any = None) -> str:
    stamp = _stamp("convertFromUtc", 0, timestamp)
    converted = _convert(
        "convertFromUtc", Timestamp(stamp.ticks, "utc"), None, _zone("convertFromUtc", 1, zone)
    )
    # Documented: the result carries no UTC offset, even when the target zone is UTC itself.
    return _format("convertFromUtc", Timestamp(converted.ticks, "unspecified"), fmt, 2)


@register("convertToUtc", 2, 3)
def convert_to_utc(context: ExpressionContext, timestamp: Any, zone: Any, fmt: Any = None) -> str:
    stamp = _stamp("convertToUtc", 0, timestamp)
    converted = _convert("convertToUtc", stamp, _zone("convertToUtc", 1, zone), None)
    return _format("convertToUtc", converted, fmt, 2)


@register("convertTimeZone", 3, 4)
def convert_time_zone(
    context: ExpressionContext, timestamp: Any, source: Any, target: Any, fmt: Any = None
) -> str:
    stamp = _stamp("convertTimeZone", 0, timestamp)
    converted = _convert(
        "convertTimeZone", stamp, _zone("convertTimeZone", 1, source), _zone("convertTimeZone", 2, target)
    )
    return _format("convertTimeZone", converted, fmt, 3)


@register("dateDifference", 2)
def date_difference(context: ExpressionContext, start: Any, end: Any) -> str:
    return format_timespan(_stamp("dateDifference", 1, end).ticks - _stamp("dateDifference", 0, start).ticks)


@register("dayOfMonth", 1)
def day_of_month(context: ExpressionContext, timestamp: Any) -> int:
    return _stamp("dayOfMonth", 0, timestamp).datetime.day


@register("dayOfWeek", 1)
def day_of_week(context: ExpressionContext, timestamp: Any) -> int:
    return _stamp("dayOfWeek", 0, timestamp).datetime.isoweekday() % 7  # Sunday is 0


@register("dayOfYear", 1)
def day_of_year(context: ExpressionContext, timestamp: Any) -> int:
    return _stamp("dayOfYear", 0, timestamp).datetime.timetuple().tm_yday


def _start_of(function: str, truncate: Callable[[datetime], datetime]) -> None:
    def impl(context: ExpressionContext, timestamp: Any, fmt: Any = None) -> str:
        stamp = _stamp(function, 0, timestamp)
        value = truncate(stamp.datetime.replace(microsecond=0))
        return _format(function, Timestamp.from_datetime(value, stamp.kind), fmt, 1)

    register(function, 1, 2)(impl)


_start_of("startOfDay", lambda value: value.replace(hour=0, minute=0, second=0))
_start_of("startOfHour", lambda value: value.replace(minute=0, second=0))
_start_of("startOfMonth", lambda value: value.replace(day=1, hour=0, minute=0, second=0))


@register("ticks", 1)
def ticks(context: ExpressionContext, timestamp: Any) -> int:
    return _stamp("ticks", 0, timestamp).ticks
