"""Culture data (.NET ``CultureInfo``) for a locale name such as ``en-US`` or ``fr-fr``.

The data is CLDR's, through Babel, which is also what .NET reads (via ICU) on Linux and in recent
Windows builds. A handful of values where .NET and Logic Apps' documented results differ from CLDR
are overridden in ``_OVERRIDES``; en-US patterns are pinned to .NET's exact strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.numbers import get_currency_symbol, get_territory_currencies

__all__ = ["Culture", "get_culture"]

DEFAULT_LOCALE = "en-US"

# .NET's en-US standard date/time patterns (DateTimeFormatInfo), the default culture of Logic Apps.
_EN_US_PATTERNS = {
    "short_date": "M/d/yyyy",
    "long_date": "dddd, MMMM d, yyyy",
    "short_time": "h:mm tt",
    "long_time": "h:mm:ss tt",
    "month_day": "MMMM d",
    "year_month": "MMMM yyyy",
}
# Where the documented Logic Apps output differs from CLDR (formatNumber(17.35, 'C2', 'is-IS')).
_OVERRIDES: dict[str, dict[str, Any]] = {"is-IS": {"currency_symbol": "kr"}}


@dataclass(frozen=True)
class Culture:
    """The parts of a .NET culture the expression functions use."""

    name: str
    decimal: str
    group: str
    group_sizes: tuple[int, ...]
    minus: str
    percent: str
    per_mille: str
    nan: str
    infinity: str
    currency_symbol: str
    currency_prefix: str  # around the number, '¤' standing for the symbol
    currency_suffix: str
    currency_negative_prefix: str
    currency_negative_suffix: str
    percent_prefix: str
    percent_suffix: str
    months: tuple[str, ...]  # stand-alone ("MMMM" without a day)
    months_genitive: tuple[str, ...]  # "MMMM" next to a day ("d MMMM")
    months_abbreviated: tuple[str, ...]
    days: tuple[str, ...]  # Sunday first, as .NET's DayOfWeek
    days_abbreviated: tuple[str, ...]
    am: str
    pm: str
    short_date: str
    long_date: str
    short_time: str
    long_time: str
    month_day: str
    year_month: str
    day_first: bool  # the short date puts the day before the month


def _to_dotnet_pattern(cldr: str) -> str:
    """Translate a CLDR date pattern into .NET custom format syntax."""
    out: list[str] = []
    i = 0
    while i < len(cldr):
        char = cldr[i]
        if char == "'":
            end = cldr.find("'", i + 1)
            end = len(cldr) if end == -1 else end
            out.append(cldr[i : end + 1])
            i = end + 1
            continue
        run = 1
        while i + run < len(cldr) and cldr[i + run] == char:
            run += 1
        if char == "y":
            out.append("yy" if run == 2 else "yyyy")
        elif char in "EeEc":
            out.append("dddd" if run >= 4 else "ddd")
        elif char == "L":
            out.append("M" * run)
        elif char in "abB":
            out.append("tt")
        elif char in "zvVOXx" or (char.isascii() and char.isalpha() and char not in "dMhHmsf"):
            pass
        else:
            out.append(char * run)
        i += run
    return "".join(out).strip()


def _affixes(pattern: Any, negative: bool) -> tuple[str, str]:
    # Windows (NLS) cultures, which Logic Apps runs on, put a plain space between number and symbol.
    index = 1 if negative else 0
    return _plain_spaces(str(pattern.prefix[index])), _plain_spaces(str(pattern.suffix[index]))


def _plain_spaces(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


@lru_cache(maxsize=64)
def get_culture(name: str | None = None) -> Culture:
    """The culture for an RFC 4646 name (case-insensitive; ``None`` or ``''`` means en-US).

    Raises:
        LookupError: the name is not a known locale.
    """
    name = (name or DEFAULT_LOCALE).strip()
    try:
        locale = Locale.parse(name.replace("-", "_"))
    except (UnknownLocaleError, ValueError) as exc:
        raise LookupError(f"the locale '{name}' isn't valid") from exc
    canonical = f"{locale.language}-{locale.territory}" if locale.territory else locale.language
    symbols = locale.number_symbols.get("latn", {})
    decimal_pattern = locale.decimal_formats[None]
    grouping = tuple(size for size in decimal_pattern.grouping if 0 < size < 100) or (3,)
    currency = locale.currency_formats["standard"]
    percent = locale.percent_formats[None]
    territory = locale.territory or ("US" if locale.language == "en" else "")
    codes = get_territory_currencies(territory) if territory else []
    symbol = get_currency_symbol(codes[0], locale) if codes else "¤"
    months_format = locale.months["format"]
    months_alone = locale.months["stand-alone"]
    days = locale.days["format"]
    order = (6, 0, 1, 2, 3, 4, 5)
    periods = locale.day_periods.get("format", {}).get("abbreviated", {})
    short_date = _to_dotnet_pattern(locale.date_formats["short"].pattern)
    if "yyyy" not in short_date:
        short_date = short_date.replace("yy", "yyyy")
    values: dict[str, Any] = {
        "name": canonical,
        "decimal": symbols.get("decimal", "."),
        # NLS uses a no-break space where CLDR has the narrow one (fr-FR).
        "group": symbols.get("group", ",").replace("\u202f", "\u00a0"),
        "group_sizes": grouping,
        "minus": symbols.get("minusSign", "-"),
        "percent": symbols.get("percentSign", "%"),
        "per_mille": symbols.get("perMille", "‰"),
        "nan": symbols.get("nan", "NaN"),
        "infinity": symbols.get("infinity", "∞"),
        "currency_symbol": symbol,
        "currency_prefix": _affixes(currency, False)[0],
        "currency_suffix": _affixes(currency, False)[1],
        "currency_negative_prefix": _affixes(currency, True)[0],
        "currency_negative_suffix": _affixes(currency, True)[1],
        "percent_prefix": _affixes(percent, False)[0],
        "percent_suffix": _affixes(percent, False)[1],
        "months": tuple(months_alone["wide"][m] for m in range(1, 13)),
        "months_genitive": tuple(months_format["wide"][m] for m in range(1, 13)),
        "months_abbreviated": tuple(months_format["abbreviated"][m] for m in range(1, 13)),
        "days": tuple(days["wide"][d] for d in order),
        "days_abbreviated": tuple(days["abbreviated"][d] for d in order),
        "am": periods.get("am", "AM"),
        "pm": periods.get("pm", "PM"),
        "short_date": short_date,
        "long_date": _to_dotnet_pattern(locale.date_formats["full"].pattern),
        "short_time": _to_dotnet_pattern(locale.time_formats["short"].pattern),
        "long_time": _to_dotnet_pattern(locale.time_formats["medium"].pattern),
        "month_day": _to_dotnet_pattern(
            locale.datetime_skeletons.get("MMMMd", "MMMM d").pattern
            if "MMMMd" in locale.datetime_skeletons
            else "MMMM d"
        ),
        "year_month": _to_dotnet_pattern(
            locale.datetime_skeletons["yMMMM"].pattern if "yMMMM" in locale.datetime_skeletons else "MMMM y"
        ),
        "day_first": locale.date_formats["short"].pattern.lower().find("d")
        < locale.date_formats["short"].pattern.find("M"),
    }
    if canonical == "en-US":
        values.update(_EN_US_PATTERNS)
        values["am"], values["pm"] = "AM", "PM"
    values.update(_OVERRIDES.get(canonical, {}))
    return Culture(**values)
