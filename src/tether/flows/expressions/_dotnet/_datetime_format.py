""".NET date and time format strings: standard (``o``, ``D``, ``u``...) and custom (``yyyy-MM-dd``).

Both ``formatDateTime`` (and every function taking a ``format``) and ``parseDateTime`` with an
explicit format use them, so formatting and exact parsing share one tokenizer.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

from ._cultures import Culture, get_culture
from ._timestamps import Timestamp

__all__ = ["format_timestamp", "parse_exact"]

_ROUND_TRIP = "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK"
_INVARIANT_FIXED = {
    "o": _ROUND_TRIP,
    "O": _ROUND_TRIP,
    "r": "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
    "R": "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
    "s": "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
    "u": "yyyy'-'MM'-'dd HH':'mm':'ss'Z'",
}


class FormatError(ValueError):
    """The format string is not a valid .NET date and time format."""


def _standard(spec: str, culture: Culture) -> tuple[str, Culture]:
    if spec in _INVARIANT_FIXED:
        # These are culture-invariant by definition (RFC 1123 day names are always English).
        return _INVARIANT_FIXED[spec], get_culture("en-US") if spec in "rR" else culture
    patterns = {
        "d": culture.short_date,
        "D": culture.long_date,
        "f": f"{culture.long_date} {culture.short_time}",
        "F": f"{culture.long_date} {culture.long_time}",
        "g": f"{culture.short_date} {culture.short_time}",
        "G": f"{culture.short_date} {culture.long_time}",
        "m": culture.month_day,
        "M": culture.month_day,
        "t": culture.short_time,
        "T": culture.long_time,
        "U": f"{culture.long_date} {culture.long_time}",
        "y": culture.year_month,
        "Y": culture.year_month,
    }
    if spec not in patterns:
        raise FormatError(f"'{spec}' isn't a valid standard date and time format")
    return patterns[spec], culture


def _tokens(pattern: str) -> Iterator[tuple[str, str]]:
    """Yield (kind, text): kind is a specifier letter run ("yyyy") or "lit" for literal text."""
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char in "'\"":
            end = pattern.find(char, i + 1)
            if end == -1:
                raise FormatError(f"the quote at position {i + 1} of the format '{pattern}' is never closed")
            yield "lit", pattern[i + 1 : end]
            i = end + 1
        elif char == "\\":
            if i + 1 >= len(pattern):
                raise FormatError(f"the format '{pattern}' ends with a lone backslash")
            yield "lit", pattern[i + 1]
            i += 2
        elif char == "%":
            i += 1
        elif char in "dfFghHKmMstyz:/":
            run = 1
            while i + run < len(pattern) and pattern[i + run] == char:
                run += 1
            yield char, char * run
            i += run
        else:
            yield "lit", char
            i += 1


def _date_separator(culture: Culture) -> str:
    match = re.search(r"[^dMy' ]", culture.short_date)
    return match.group(0) if match else "/"


def format_timestamp(stamp: Timestamp, fmt: str | None = None, locale: str | None = None) -> str:
    """Format ``stamp`` with a .NET format string (default ``o``) in a culture (default en-US).

    Raises:
        FormatError: the format string is invalid.
        LookupError: the locale is unknown.
    """
    culture = get_culture(locale)
    pattern = fmt or "o"
    if len(pattern) == 1:
        pattern, culture = _standard(pattern, culture)
    value = stamp.datetime
    genitive = bool(re.search(r"(?<!d)d{1,2}(?!d)", pattern))
    out: list[str] = []
    for kind, text in _tokens(pattern):
        run = len(text)
        if kind == "lit":
            out.append(text)
        elif kind == "d":
            day = stamp.datetime.isoweekday() % 7
            out.append(
                str(value.day) if run == 1 else f"{value.day:02d}" if run == 2
                else culture.days_abbreviated[day] if run == 3 else culture.days[day]
            )  # fmt: skip
        elif kind in "fF":
            if run > 7:
                raise FormatError(f"'{text}' asks for more than 7 fraction digits")
            digits = f"{stamp.fraction:07d}"[:run]
            if kind == "F":
                digits = digits.rstrip("0")
                if not digits and out and out[-1].endswith("."):
                    out[-1] = out[-1][:-1]
            out.append(digits)
        elif kind == "g":
            out.append("A.D.")
        elif kind == "h":
            hour = value.hour % 12 or 12
            out.append(str(hour) if run == 1 else f"{hour:02d}")
        elif kind == "H":
            out.append(str(value.hour) if run == 1 else f"{value.hour:02d}")
        elif kind == "K":
            out.append("Z" if stamp.kind == "utc" else "")
        elif kind == "m":
            out.append(str(value.minute) if run == 1 else f"{value.minute:02d}")
        elif kind == "M":
            month = value.month - 1
            out.append(
                str(value.month) if run == 1 else f"{value.month:02d}" if run == 2
                else culture.months_abbreviated[month] if run == 3
                else (culture.months_genitive if genitive else culture.months)[month]
            )  # fmt: skip
        elif kind == "s":
            out.append(str(value.second) if run == 1 else f"{value.second:02d}")
        elif kind == "t":
            marker = culture.am if value.hour < 12 else culture.pm
            out.append(marker[:1] if run == 1 else marker)
        elif kind == "y":
            year = value.year
            out.append(
                str(year % 100) if run == 1 else f"{year % 100:02d}" if run == 2 else str(year).zfill(run)
            )
        elif kind == "z":
            # Logic Apps runs in UTC, so the "local" offset .NET prints here is always zero.
            out.append("+0" if run == 1 else "+00" if run == 2 else "+00:00")
        elif kind == ":":
            out.append(":" * run)
        elif kind == "/":
            out.append(_date_separator(culture) * run)
    return "".join(out)


def _names_regex(names: tuple[str, ...]) -> str:
    return "|".join(re.escape(name) for name in sorted(set(names), key=len, reverse=True))


def parse_exact(text: str, fmt: str, locale: str | None = None) -> Timestamp:
    """Parse ``text`` that must match the .NET format ``fmt`` exactly (``DateTime.ParseExact``).

    Raises:
        FormatError: the format is invalid.
        ValueError: the text does not match the format.
    """
    culture = get_culture(locale)
    pattern = fmt
    if len(pattern) == 1:
        pattern, culture = _standard(pattern, culture)
    regex: list[str] = []
    for kind, token in _tokens(pattern):
        run = len(token)
        if kind == "lit":
            regex.append(re.escape(token))
        elif kind == "d":
            regex.append(
                r"(?P<day>\d{1,2})" if run == 1 else r"(?P<day>\d{2})" if run == 2
                else f"(?:{_names_regex(culture.days + culture.days_abbreviated)})"
            )  # fmt: skip
        elif kind == "M":
            names = culture.months + culture.months_genitive + culture.months_abbreviated
            regex.append(
                r"(?P<month>\d{1,2})" if run == 1 else r"(?P<month>\d{2})" if run == 2
                else f"(?P<month_name>{_names_regex(names)})"
            )  # fmt: skip
        elif kind == "y":
            regex.append(
                r"(?P<year>\d{4})" if run >= 3 else r"(?P<year2>\d{1,2})" if run == 1 else r"(?P<year2>\d{2})"
            )
        elif kind in "hH":
            regex.append(f"(?P<{kind}hour>\\d{{1,2}})" if run == 1 else f"(?P<{kind}hour>\\d{{2}})")
        elif kind == "m":
            regex.append(r"(?P<minute>\d{1,2})" if run == 1 else r"(?P<minute>\d{2})")
        elif kind == "s":
            regex.append(r"(?P<second>\d{1,2})" if run == 1 else r"(?P<second>\d{2})")
        elif kind in "fF":
            regex.append(f"(?P<fraction>\\d{{{run}}})" if kind == "f" else f"(?P<fraction>\\d{{0,{run}}})")
        elif kind == "t":
            regex.append(f"(?P<ampm>{_names_regex((culture.am, culture.pm, 'AM', 'PM'))})")
        elif kind in "Kz":
            regex.append(r"(?P<zone>Z|[+-]\d{1,2}(?::?\d{2})?)?")
        elif kind == ":":
            regex.append(":")
        elif kind == "/":
            regex.append(re.escape(_date_separator(culture)))
        elif kind == "g":
            regex.append(r"(?:A\.D\.|AD)")
    match = re.fullmatch("".join(regex), text.strip(), re.IGNORECASE)
    if not match:
        raise ValueError(f"'{text}' doesn't match the format '{fmt}'")
    return _assemble(match, culture)


def _assemble(match: re.Match[str], culture: Culture) -> Timestamp:
    groups = {name: value for name, value in match.groupdict().items() if value is not None}
    year = 1
    if "year" in groups:
        year = int(groups["year"])
    elif "year2" in groups:
        # .NET's TwoDigitYearMax is 2049: 00-49 are 2000s, 50-99 are 1900s.
        short = int(groups["year2"])
        year = short + (2000 if short < 50 else 1900)
    if "month_name" in groups:
        wanted = groups["month_name"].lower()
        for names in (culture.months, culture.months_genitive, culture.months_abbreviated):
            lowered = [name.lower() for name in names]
            if wanted in lowered:
                month = lowered.index(wanted) + 1
                break
    else:
        month = int(groups.get("month", 1))
    hour = int(groups.get("Hhour", groups.get("hhour", 0)))
    if "ampm" in groups:
        pm = groups["ampm"].lower() in (culture.pm.lower(), "pm")
        hour = hour % 12 + (12 if pm else 0)
    fraction = groups.get("fraction", "").ljust(7, "0")
    value = datetime(
        year,
        month,
        int(groups.get("day", 1)),
        hour,
        int(groups.get("minute", 0)),
        int(groups.get("second", 0)),
    )
    stamp = Timestamp.from_datetime(value).add_ticks(int(fraction))
    zone = groups.get("zone")
    if not zone:
        return stamp
    if zone.upper() == "Z":
        return Timestamp(stamp.ticks, "utc")
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    minutes = int(digits[:-2] if len(digits) > 2 else digits) * 60 + (
        int(digits[-2:]) if len(digits) > 2 else 0
    )
    return Timestamp(stamp.ticks - sign * minutes * 600_000_000, "utc")
