"""Lenient number parsing as .NET's ``double.Parse`` does it with ``NumberStyles``.

Logic Apps' ``float()`` accepts surprising input (``float('12,3,4,5678')`` is 12345678 and
``float('12345678.-')`` is -12345678, both documented) because .NET allows group separators anywhere
in the integer part and a trailing sign; ``isFloat`` and ``isInt`` use stricter styles. This module
reproduces those rules for a culture's separators.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from ._cultures import get_culture

__all__ = ["parse_float", "parse_integer"]


def _scan(
    text: str, *, decimal: str, group: str, thousands: bool, trailing_sign: bool, currency: str | None
) -> Decimal | None:
    s = text.strip()
    if not s:
        return None
    negative = False
    # Leading sign, parentheses and currency symbol.
    if s.startswith("(") and s.endswith(")") and trailing_sign:
        negative, s = True, s[1:-1].strip()
    if currency and s.startswith(currency):
        s = s[len(currency) :].strip()
    if s[:1] and s[:1] in "+-":
        negative, s = s[0] == "-", s[1:]
    if currency and s.startswith(currency):
        s = s[len(currency) :].strip()
    if trailing_sign and s[-1:] and s[-1:] in "+-":
        if s[-1] == "-":
            negative = True
        s = s[:-1].rstrip()
    if currency and s.endswith(currency):
        s = s[: -len(currency)].strip()
    int_digits: list[str] = []
    frac_digits: list[str] = []
    i = 0
    while i < len(s):
        if s[i].isdigit():
            int_digits.append(s[i])
            i += 1
        elif thousands and group and s.startswith(group, i) and int_digits:
            i += len(group)
        else:
            break
    if decimal and s.startswith(decimal, i):
        i += len(decimal)
        while i < len(s) and s[i].isdigit():
            frac_digits.append(s[i])
            i += 1
    if not int_digits and not frac_digits:
        return None
    exponent = 0
    if i < len(s) and s[i] in "eE":
        j = i + 1
        exp_sign = 1
        if j < len(s) and s[j] in "+-":
            exp_sign = -1 if s[j] == "-" else 1
            j += 1
        start = j
        while j < len(s) and s[j].isdigit():
            j += 1
        if j == start:
            return None
        exponent = exp_sign * int(s[start:j])
        i = j
    if i != len(s):
        return None
    try:
        value = Decimal(f"{''.join(int_digits) or '0'}.{''.join(frac_digits) or '0'}e{exponent}")
    except InvalidOperation:
        return None
    return -value if negative else value


def parse_float(text: str, locale: str | None = None, *, lenient: bool = True) -> Decimal | None:
    """Parse a floating-point string in a culture; ``None`` when it isn't one.

    ``lenient`` is ``NumberStyles.Any`` (what ``float()`` accepts: trailing signs, parentheses,
    currency symbols); otherwise ``Float | AllowThousands`` (what ``isFloat()`` accepts).
    """
    culture = get_culture(locale)
    return _scan(
        text,
        decimal=culture.decimal,
        group=culture.group,
        thousands=True,
        trailing_sign=lenient,
        currency=culture.currency_symbol if lenient else None,
    )


def parse_integer(text: str) -> int | None:
    """Parse an integer as ``long.Parse`` with ``NumberStyles.Integer`` (sign, surrounding spaces)."""
    s = text.strip()
    body = s[1:] if s[:1] in "+-" else s
    if not body.isascii() or not body.isdigit():
        return None
    return int(s)
