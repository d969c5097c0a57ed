"""Invariant-culture casing as .NET's ``ToLowerInvariant`` / ``ToUpperInvariant`` do it.

.NET maps one UTF-16 character to one character (Unicode *simple* case mapping) with no context,
while Python's ``str.lower``/``str.upper`` apply the *full* mapping: ``'ß'.upper()`` is ``'SS'``,
``'ΟΔΟΣ'.lower()`` ends in a final ``'ς'``, ``'İ'.lower()`` is two characters. A flow that compares
``toUpper()`` results, or takes substrings by position afterwards, must see .NET's answers, which
also leave the Turkish dotted and dotless i alone in the invariant culture.
"""

from __future__ import annotations

from functools import lru_cache

__all__ = ["to_lower_invariant", "to_upper_invariant"]

# The invariant culture does not map these (they only change case in Turkish and Azeri cultures).
_UNMAPPED = frozenset("\u0130\u0131")


@lru_cache(maxsize=2048)
def _upper(char: str) -> str:
    if char in _UNMAPPED:
        return char
    full = char.upper()
    if len(full) == 1:
        return full
    # Characters whose full mapping is several letters (ß, ligatures, Greek with ypogegrammeni):
    # the simple mapping is the title-case letter when that is one character, else no change.
    title = char.title()
    return title if len(title) == 1 and title != full else char


@lru_cache(maxsize=2048)
def _lower(char: str) -> str:
    if char in _UNMAPPED:
        return char
    full = char.lower()
    return full if len(full) == 1 else char


def to_upper_invariant(text: str) -> str:
    """``text.ToUpperInvariant()``: same length as ``text``, one character mapped at a time."""
    if text.isascii():
        return text.upper()
    return "".join(map(_upper, text))


def to_lower_invariant(text: str) -> str:
    """``text.ToLowerInvariant()``: no final-sigma rule, no multi-character results."""
    if text.isascii():
        return text.lower()
    return "".join(map(_lower, text))
