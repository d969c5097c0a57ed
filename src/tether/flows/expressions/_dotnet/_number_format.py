""".NET numeric format strings for ``formatNumber``: standard (``C2``, ``N0``, ``P``, ``E``...) and custom.

Custom formats cover ``0``/``#`` placeholders, grouping and scaling commas, ``%`` and ``‰``,
exponents, quoted literals, backslash escapes and ``;`` sections. Rounding is half away from zero on
the shortest round-trip digits, as .NET Framework (which Logic Apps runs on) does.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from ._cultures import Culture, get_culture

__all__ = ["NumberFormatError", "format_number"]

_STANDARD = re.compile(r"([CcDdEeFfGgNnPpRrXx])(\d{0,9})")


class NumberFormatError(ValueError):
    """The format string is not a valid .NET numeric format."""


def _group(digits: str, culture: Culture) -> str:
    sizes = list(culture.group_sizes)
    parts: list[str] = []
    size = sizes.pop(0)
    while len(digits) > size > 0:
        parts.append(digits[-size:])
        digits = digits[:-size]
        if sizes:
            size = sizes.pop(0)
    parts.append(digits)
    return culture.group.join(reversed(parts))


def _fixed(value: Decimal, decimals: int) -> tuple[str, str]:
    """Round half away from zero; return (integer digits, fraction digits) of the absolute value."""
    rounded = abs(value).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    text = format(rounded, "f")
    whole, _, fraction = text.partition(".")
    return whole, fraction


def _scientific(value: Decimal, decimals: int, letter: str, min_exp_digits: int, plus: bool) -> str:
    if value == 0:
        mantissa, exponent = "0" + ("." + "0" * decimals if decimals else ""), 0
    else:
        exponent = abs(value).adjusted()
        scaled = abs(value).scaleb(-exponent)
        whole, fraction = _fixed(scaled, decimals)
        if whole == "10":  # rounding carried into a new digit
            exponent += 1
            whole, fraction = _fixed(abs(value).scaleb(-exponent), decimals)
        mantissa = whole + ("." + fraction if decimals else "")
    sign = "-" if exponent < 0 else ("+" if plus else "")
    return f"{mantissa}{letter}{sign}{abs(exponent):0{min_exp_digits}d}"


def _standard_format(value: Decimal, is_integer: bool, letter: str, precision: str, culture: Culture) -> str:
    upper = letter.upper()
    digits = int(precision) if precision else None
    negative = value < 0
    if upper in "DX" and not is_integer:
        raise NumberFormatError(f"the format '{letter}' works only with integers")
    if upper == "D":
        text = str(abs(int(value))).zfill(digits or 0)
        return (culture.minus if negative else "") + text
    if upper == "X":
        text = format(int(value) & (2**64 - 1) if negative else int(value), "x" if letter == "x" else "X")
        return text.zfill(digits or 0)
    if upper == "E":
        body = _scientific(value, 6 if digits is None else digits, letter, 3, True)
        return (culture.minus if negative else "") + body.replace(".", culture.decimal)
    if upper in "GR":
        raise NumberFormatError("handled by the caller")  # G and R print the shortest round-trip form
    decimals = 2 if digits is None else digits
    if upper == "P":
        value = value * 100
    whole, fraction = _fixed(value, decimals)
    grouped = whole if upper == "F" else _group(whole, culture)
    number = grouped + (culture.decimal + fraction if decimals else "")
    is_zero = set(whole + fraction) <= {"0"}
    negative = negative and not is_zero
    if upper == "C":
        prefix = culture.currency_negative_prefix if negative else culture.currency_prefix
        suffix = culture.currency_negative_suffix if negative else culture.currency_suffix
        return (prefix + number + suffix).replace("¤", culture.currency_symbol)
    if upper == "P":
        text = culture.percent_prefix + number + culture.percent_suffix
        return (culture.minus if negative else "") + text
    return (culture.minus if negative else "") + number


def _split_sections(fmt: str) -> list[str]:
    sections, current, quote, i = [], [], "", 0
    while i < len(fmt):
        char = fmt[i]
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "\\" and i + 1 < len(fmt):
            current.append(fmt[i : i + 2])
            i += 2
            continue
        elif char == ";":
            sections.append("".join(current))
            current = []
            i += 1
            continue
        current.append(char)
        i += 1
    sections.append("".join(current))
    return sections


def _custom_format(value: Decimal, fmt: str, culture: Culture) -> str:
    sections = _split_sections(fmt)
    section = sections[0]
    negative = value < 0
    if negative and len(sections) > 1 and sections[1]:
        section, negative = sections[1], False  # the section draws its own sign
    elif value == 0 and len(sections) > 2 and sections[2]:
        section = sections[2]
    # Tokenize: placeholders, '.', ',', '%', '‰', exponent, literals.
    tokens: list[tuple[str, str]] = []
    i = 0
    while i < len(section):
        char = section[i]
        if char in "'\"":
            end = section.find(char, i + 1)
            end = len(section) if end == -1 else end
            tokens.append(("lit", section[i + 1 : end]))
            i = end + 1
        elif char == "\\":
            tokens.append(("lit", section[i + 1 : i + 2]))
            i += 2
        elif char in "eE" and re.match(r"[eE][+-]?0", section[i:]):
            match = re.match(r"[eE]([+-]?)(0+)", section[i:])
            assert match is not None
            tokens.append(("exp", match.group(0)))
            i += len(match.group(0))
        else:
            tokens.append((char if char in "0#.,%‰" else "lit", char))
            i += 1
    point = next((k for k, (kind, _) in enumerate(tokens) if kind == "."), len(tokens))
    int_tokens, frac_tokens = tokens[:point], tokens[point + 1 :]
    placeholders = [k for k, (kind, _) in enumerate(int_tokens) if kind in "0#"]
    # Commas right after the last integer placeholder scale by 1000 each; others turn on grouping.
    scale_commas = 0
    if placeholders:
        k = placeholders[-1] + 1
        while k < len(int_tokens) and int_tokens[k][0] == ",":
            scale_commas, k = scale_commas + 1, k + 1
    grouping = (
        any(kind == "," for kind, _ in int_tokens[placeholders[0] : placeholders[-1]])
        if placeholders
        else False
    )
    value = abs(value) if not negative else -value
    value = value / (Decimal(1000) ** scale_commas)
    value *= Decimal(100) ** sum(kind == "%" for kind, _ in tokens)
    value *= Decimal(1000) ** sum(kind == "‰" for kind, _ in tokens)
    frac_places = [kind for kind, _ in frac_tokens if kind in "0#"]
    exponent_token = next((text for kind, text in tokens if kind == "exp"), None)
    exponent = 0
    if exponent_token and value != 0:
        exponent = value.adjusted() - max(len(placeholders), 1) + 1
        value = value.scaleb(-exponent)
    whole, fraction = _fixed(value, len(frac_places))
    min_int = 0
    first_zero = next((n for n, k in enumerate(placeholders) if int_tokens[k][0] == "0"), None)
    if first_zero is not None:
        min_int = len(placeholders) - first_zero
    whole = whole.lstrip("0").zfill(min_int) if min_int else whole.lstrip("0")
    last_zero = max((n + 1 for n, kind in enumerate(frac_places) if kind == "0"), default=0)
    fraction = fraction.rstrip("0").ljust(last_zero, "0")
    is_zero = not (whole.strip("0") or fraction.strip("0"))
    # Emit the integer part: extra leading digits go with the first placeholder.
    out: list[str] = []
    digits = whole
    extra = len(digits) - len(placeholders)
    digit_index = 0
    for k, (kind, text) in enumerate(int_tokens):
        if kind in "0#":
            count = 1 + max(extra, 0) if placeholders and k == placeholders[0] else 1
            if placeholders and k == placeholders[0] and extra < 0:
                count = 1
            take = digits[digit_index : digit_index + count] if extra >= 0 or k != placeholders[0] else ""
            if extra < 0:
                position = placeholders.index(k)
                take = digits[position + extra] if position + extra >= 0 else ""
            for char in take:
                out.append(char)
                digit_index += 1
                remaining = len(digits) - digit_index
                if grouping and remaining > 0 and _is_group_boundary(remaining, culture):
                    out.append(culture.group)
        elif kind == "lit":
            out.append(text)
        elif kind in "%‰":
            out.append(culture.percent if kind == "%" else culture.per_mille)
    if fraction:
        out.append(culture.decimal)
    frac_digit = 0
    for kind, text in frac_tokens:
        if kind in "0#":
            if frac_digit < len(fraction):
                out.append(fraction[frac_digit])
            frac_digit += 1
        elif kind == "exp":
            plus = "+" in text
            sign = "-" if exponent < 0 else ("+" if plus else "")
            out.append(f"{text[0]}{sign}{abs(exponent):0{len(text.lstrip('eE+-'))}d}")
        elif kind == "lit":
            out.append(text)
        elif kind in "%‰":
            out.append(culture.percent if kind == "%" else culture.per_mille)
    text = "".join(out)
    return (culture.minus if negative and not is_zero else "") + text


def _is_group_boundary(remaining: int, culture: Culture) -> bool:
    position, sizes = 0, list(culture.group_sizes)
    size = sizes.pop(0)
    while position + size <= remaining:
        position += size
        if position == remaining:
            return True
        if sizes:
            size = sizes.pop(0)
    return False


def format_number(
    value: int | float | Decimal, fmt: str, locale: str | None = None, *, shortest: str | None = None
) -> str:
    """Format a number with a .NET numeric format string in a culture (default en-US).

    ``shortest`` is the value's round-trip text, used for ``G``/``R`` without a precision.

    Raises:
        NumberFormatError: the format string is invalid for this value.
        LookupError: the locale is unknown.
    """
    culture = get_culture(locale)
    is_integer = isinstance(value, int)
    number = Decimal(value) if isinstance(value, int | Decimal) else Decimal(repr(value))
    match = _STANDARD.fullmatch(fmt)
    if match:
        letter, precision = match.groups()
        if letter.upper() in "GR":
            if precision and letter.upper() == "G":
                return _general(number, int(precision), letter, culture)
            text = shortest if shortest is not None else format(number, "f")
            return text.replace(".", culture.decimal).replace("-", culture.minus)
        return _standard_format(number, is_integer, letter, precision, culture)
    if not fmt:
        return (shortest or format(number, "f")).replace(".", culture.decimal)
    return _custom_format(number, fmt, culture)


def _general(value: Decimal, precision: int, letter: str, culture: Culture) -> str:
    if value == 0:
        return "0"
    rounded = Decimal(f"{value:.{precision}g}") if precision else value
    exponent = rounded.adjusted()
    if exponent >= precision or exponent < -5:
        body = _scientific(abs(rounded), precision - 1, "E" if letter == "G" else "e", 2, True)
        mantissa, _, exp = body.partition("E" if letter == "G" else "e")
        mantissa = mantissa.rstrip("0").rstrip(".") if "." in mantissa else mantissa
        text = f"{mantissa}{'E' if letter == 'G' else 'e'}{exp}"
    else:
        text = format(abs(rounded), "f")
        text = text.rstrip("0").rstrip(".") if "." in text else text
    return (culture.minus if value < 0 else "") + text.replace(".", culture.decimal)
