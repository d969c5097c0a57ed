"""Timestamps as .NET's ``DateTime`` has them: 100-nanosecond ticks and a kind (UTC or unspecified).

Python's ``datetime`` stops at microseconds, but Logic Apps prints seven fraction digits
(``2025-09-25T05:18:31.3384797Z``) and ``ticks()`` exposes them, so a timestamp here is an integer
tick count plus the kind, which decides whether the ``K`` format prints ``Z``.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from dateutil import parser as dateutil_parser

from ._cultures import Culture, get_culture

__all__ = ["Duration", "Timestamp", "format_timespan", "parse_duration", "parse_timestamp"]

TICKS_PER_MICROSECOND = 10
TICKS_PER_SECOND = 10_000_000
TICKS_PER_DAY = 86_400 * TICKS_PER_SECOND
_EPOCH = datetime(1, 1, 1)
Kind = Literal["utc", "unspecified"]

_ISO = re.compile(
    r"\s*(?P<y>\d{4})-(?P<mo>\d{1,2})-(?P<d>\d{1,2})"
    r"(?:[T ](?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<f>\d+))?)?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}(?::?\d{2})?)?\s*",
    re.IGNORECASE,
)


@dataclass(frozen=True, order=True)
class Timestamp:
    """A point in time as a .NET ``DateTime``: ticks since 0001-01-01 and a kind."""

    ticks: int
    kind: Kind = "unspecified"

    @classmethod
    def from_datetime(cls, value: datetime, kind: Kind | None = None, extra_ticks: int = 0) -> Timestamp:
        """From a ``datetime``; an aware one is converted to UTC (and gets kind ``utc``)."""
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
            kind = kind or "utc"
        delta = value - _EPOCH
        ticks = (delta.days * 86_400 + delta.seconds) * TICKS_PER_SECOND + delta.microseconds * 10
        return cls(ticks + extra_ticks, kind or "unspecified")

    @property
    def datetime(self) -> datetime:
        """The naive ``datetime`` (microsecond precision; the last tick digit is :attr:`sub_micro`)."""
        return _EPOCH + timedelta(microseconds=self.ticks // TICKS_PER_MICROSECOND)

    @property
    def sub_micro(self) -> int:
        return self.ticks % TICKS_PER_MICROSECOND

    @property
    def fraction(self) -> int:
        """The seven-digit fraction of the second (0..9,999,999)."""
        return self.ticks % TICKS_PER_SECOND

    def with_datetime(self, value: dt.datetime) -> Timestamp:
        """The same kind and sub-microsecond digit at another wall-clock time."""
        return Timestamp.from_datetime(value.replace(tzinfo=None), self.kind, self.sub_micro)

    def add_ticks(self, ticks: int) -> Timestamp:
        result = self.ticks + ticks
        if not 0 <= result < _MAX_TICKS:
            raise ValueError("the resulting timestamp is outside the supported range (years 1 to 9999)")
        return Timestamp(result, self.kind)

    def add_months(self, months: int) -> Timestamp:
        """Add calendar months, clamping the day as .NET's ``AddMonths`` does (Jan 31 + 1 = Feb 28)."""
        value = self.datetime
        index = value.year * 12 + value.month - 1 + months
        year, month = divmod(index, 12)
        if not 1 <= year <= 9999:
            raise ValueError("the resulting timestamp is outside the supported range (years 1 to 9999)")
        day = min(value.day, calendar.monthrange(year, month + 1)[1])
        return self.with_datetime(value.replace(year=year, month=month + 1, day=day))


_MAX_TICKS = (datetime(9999, 12, 31, 23, 59, 59, 999999) - _EPOCH) // timedelta(microseconds=1) * 10 + 10


class _CultureInfo(dateutil_parser.parserinfo):
    """dateutil's parser taught a culture's month and day names (for ``parseDateTime(..., 'fr-FR')``)."""

    def __init__(self, culture: Culture) -> None:
        en = get_culture("en-US")
        # dateutil's stubs want pairs or triples; it reads tuples of any length.
        self.MONTHS: Any = [
            tuple(
                {
                    en.months_abbreviated[i],
                    en.months[i],
                    culture.months[i],
                    culture.months_genitive[i],
                    culture.months_abbreviated[i],
                    culture.months_abbreviated[i].rstrip("."),
                }
            )
            for i in range(12)
        ]
        # dateutil wants Monday first; .NET order is Sunday first.
        weekdays = list(
            zip(en.days_abbreviated, en.days, culture.days, culture.days_abbreviated, strict=True)
        )
        self.WEEKDAYS: Any = [tuple({*names, names[3].rstrip(".")}) for names in weekdays[1:] + weekdays[:1]]
        self.AMPM: Any = [("am", "a", culture.am.lower()), ("pm", "p", culture.pm.lower())]
        self.JUMP = [*dateutil_parser.parserinfo.JUMP, "de", "del", "le", "à", "um", "den", "el"]
        super().__init__(dayfirst=culture.day_first)


def parse_timestamp(text: str, locale: str | None = None) -> Timestamp:
    """Read a timestamp leniently, as ``DateTime.Parse`` does with the given culture (default en-US).

    ISO 8601 keeps all seven fraction digits; other shapes (``03/15/2018``, ``20 octobre 2010``,
    RFC 1123) go through dateutil with the culture's names and day/month order. A zone offset makes
    the result UTC.

    Raises:
        ValueError: the text is not a timestamp.
    """
    match = _ISO.fullmatch(text)
    if match:
        return _from_iso(match)
    culture = get_culture(locale)
    try:
        parsed = dateutil_parser.parse(text, parserinfo=_CultureInfo(culture), default=datetime(1, 1, 1))
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"'{text}' isn't a valid timestamp") from exc
    return Timestamp.from_datetime(parsed)


def _from_iso(match: re.Match[str]) -> Timestamp:
    fraction = (match["f"] or "").ljust(7, "0")[:7]
    value = datetime(
        int(match["y"]), int(match["mo"]), int(match["d"]),
        int(match["h"] or 0), int(match["mi"] or 0), int(match["s"] or 0),
    )  # fmt: skip
    stamp = Timestamp.from_datetime(value, "unspecified").add_ticks(int(fraction))
    zone = match["tz"]
    if not zone:
        return stamp
    if zone.upper() == "Z":
        return Timestamp(stamp.ticks, "utc")
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    offset = int(digits[:2]) * 60 + int(digits[2:4] or 0)
    return Timestamp(stamp.ticks - sign * offset * 60 * TICKS_PER_SECOND, "utc")


@dataclass(frozen=True)
class Duration:
    """An ISO 8601 duration split into calendar months and exact ticks (``P1M`` is not 30 days)."""

    months: int
    ticks: int

    def add_to(self, stamp: Timestamp, sign: int = 1) -> Timestamp:
        return stamp.add_months(sign * self.months).add_ticks(sign * self.ticks)


_DURATION = re.compile(
    r"(?P<sign>-)?P(?:(?P<y>\d+(?:[.,]\d+)?)Y)?(?:(?P<mo>\d+(?:[.,]\d+)?)M)?(?:(?P<w>\d+(?:[.,]\d+)?)W)?"
    r"(?:(?P<d>\d+(?:[.,]\d+)?)D)?(?:T(?:(?P<h>\d+(?:[.,]\d+)?)H)?(?:(?P<mi>\d+(?:[.,]\d+)?)M)?"
    r"(?:(?P<s>\d+(?:[.,]\d+)?)S)?)?",
    re.IGNORECASE,
)


def parse_duration(text: str) -> Duration:
    """Parse an ISO 8601 duration such as ``PT1H``, ``P1DT12H``, ``P2W`` or ``-P1M``.

    Workflow definitions use them for Until timeouts, Wait and retry intervals.

    Raises:
        ValueError: the text is not an ISO 8601 duration.
    """
    match = _DURATION.fullmatch(text.strip())
    if not match or text.strip().upper().rstrip("T") in ("P", "-P") or text.strip().upper().endswith("T"):
        raise ValueError(f"'{text}' isn't an ISO 8601 duration (for example PT1H or P1DT12H)")

    def number(name: str) -> float:
        value = match[name]
        return float(value.replace(",", ".")) if value else 0.0

    months = number("y") * 12 + number("mo")
    if months != int(months):
        raise ValueError(f"'{text}': fractional years or months are not supported")
    seconds = ((number("w") * 7 + number("d")) * 24 + number("h")) * 3600 + number("mi") * 60 + number("s")
    sign = -1 if match["sign"] else 1
    return Duration(sign * int(months), sign * round(seconds * TICKS_PER_SECOND))


def format_timespan(ticks: int) -> str:
    """Format a tick difference as .NET's ``TimeSpan.ToString()``: ``[-][d.]hh:mm:ss[.fffffff]``."""
    sign = "-" if ticks < 0 else ""
    ticks = abs(ticks)
    days, rest = divmod(ticks, TICKS_PER_DAY)
    seconds, fraction = divmod(rest, TICKS_PER_SECOND)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    text = f"{sign}{f'{days}.' if days else ''}{hours:02d}:{minutes:02d}:{seconds:02d}"
    return text + (f".{fraction:07d}" if fraction else "")
