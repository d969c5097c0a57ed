"""Time zones by the Windows names Logic Apps accepts, with .NET's conversion rules.

``convertTimeZone`` and friends take names like ``W. Europe Standard Time``; the docs add that
punctuation may be dropped, so lookups ignore case and punctuation. IANA names are accepted too.
.NET treats an ambiguous local time (the repeated hour when clocks go back) as standard time and
rejects a local time that does not exist (the skipped hour); so do we.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ._zones_table import WINDOWS_TO_IANA

__all__ = ["WINDOWS_TO_IANA", "local_to_utc", "resolve_zone", "utc_to_local"]

_UTC_NAMES = {"utc", "coordinatedunivesaltime", "coordinateduniversaltime", "gmt", "etcutc", "z"}


def _squash(name: str) -> str:
    return re.sub(r"[^a-z0-9+\-]", "", name.lower())


_BY_SQUASHED = {_squash(name): zone for name, zone in WINDOWS_TO_IANA.items()}


@lru_cache(maxsize=256)
def resolve_zone(name: str) -> ZoneInfo:
    """The zone for a Windows (or IANA) time zone name.

    Raises:
        LookupError: unknown name; the message says where to find valid names.
    """
    squashed = _squash(name)
    if squashed in _UTC_NAMES:
        return ZoneInfo("UTC")
    iana = WINDOWS_TO_IANA.get(name) or _BY_SQUASHED.get(squashed) or name.strip()
    try:
        return ZoneInfo(iana)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise LookupError(
            f"the time zone '{name}' isn't valid: use a Windows time zone name such as "
            "'Pacific Standard Time' or 'W. Europe Standard Time'"
        ) from exc


def local_to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """Convert a naive wall-clock time in ``zone`` to naive UTC, the way .NET does.

    Raises:
        ValueError: the time falls in a daylight-saving gap and never happens in that zone.
    """
    # fold=1 picks the second (standard-time) occurrence of an ambiguous hour, as .NET does.
    aware = local.replace(tzinfo=zone, fold=1)
    utc = aware.astimezone(UTC)
    if utc.astimezone(zone).replace(tzinfo=None) != local:
        raise ValueError(
            f"the time {local.isoformat()} doesn't exist in the time zone '{zone.key}' "
            "(clocks skip it when daylight saving time starts)"
        )
    return utc.replace(tzinfo=None)


def utc_to_local(utc: datetime, zone: ZoneInfo) -> datetime:
    """Convert a naive UTC time to the naive wall-clock time in ``zone``."""
    return utc.replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None)
