"""A compact recursive-descent parser for workflow definition language expressions.

Hand-written rather than generated: the grammar is tiny (literals, calls, ``.name``, ``[index]``,
``?``), and a hand-written parser gives exact, friendly error positions, stops cleanly at the ``}``
that closes an ``@{...}`` interpolation, and checks function names and argument counts while parsing,
as Logic Apps does when a definition is saved.

Grammar::

    expression := primary postfix*
    primary    := string | number | 'true' | 'false' | 'null' | name '(' [expression (',' expression)*] ')'
    postfix    := '?'? ('.' name | '[' expression ']')
    string     := "'" ( [^'] | "''" )* "'"
    number     := ('-' | '+')? (digits ('.' digits?)? | '.' digits) (('e' | 'E') ('+' | '-')? digits)?
"""

from __future__ import annotations

import difflib
from functools import lru_cache

from ._ast import Access, Call, Expression, Interpolation, Literal, Node
from ._errors import ExpressionError
from .functions import FUNCTIONS

__all__ = ["parse"]

_KEYWORDS = {"true": True, "false": False, "null": None}
_INT64 = (-(2**63), 2**63 - 1)
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$")
# Member names after '.' may hold a few more characters than function names (Logic Apps allows
# e.g. body('x').my-prop); anything else needs the ['...'] form.
_MEMBER_CHARS = _NAME_CHARS | frozenset("-@#")


class _Reader:
    """Walks one string; ``pos`` is an offset into the whole template, so errors point at it."""

    def __init__(self, text: str, pos: int) -> None:
        self.text, self.pos = text, pos

    def fail(self, reason: str, at: int | None = None) -> ExpressionError:
        return ExpressionError(reason, expression=self.text, offset=self.pos if at is None else at)

    def skip_space(self) -> None:
        text, pos = self.text, self.pos
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
        self.pos = pos

    def peek(self) -> str:
        self.skip_space()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, char: str, what: str) -> None:
        if self.peek() != char:
            found = self._describe()
            raise self.fail(f"expected {what}, found {found}")
        self.pos += 1

    def _describe(self) -> str:
        if self.pos >= len(self.text):
            return "the end of the expression"
        return repr(self.text[self.pos])

    # expression := primary postfix*
    def expression(self) -> Node:
        node = self.primary()
        while True:
            char = self.peek()
            start = self.pos
            optional = False
            if char == "?":
                optional = True
                self.pos += 1
                char = self.peek()
                if char not in (".", "["):
                    raise self.fail(f"expected '.' or '[' after '?', found {self._describe()}")
            if char == ".":
                self.pos += 1
                key_start = self.pos
                name = self._take(_MEMBER_CHARS)
                if not name:
                    raise self.fail(f"expected a property name after '.', found {self._describe()}")
                node = Access(node, Literal(name, key_start), optional, start)
            elif char == "[":
                self.pos += 1
                key = self.expression()
                self.expect("]", "']' to close the index")
                node = Access(node, key, optional, start)
            else:
                return node

    def primary(self) -> Node:
        char = self.peek()
        start = self.pos
        if not char:
            raise self.fail("expected an expression, found the end of the expression")
        if char == "'":
            return Literal(self._string(), start)
        if char.isdigit() or char in "-+.":
            return Literal(self._number(), start)
        if char in _NAME_CHARS:
            name = self._take(_NAME_CHARS)
            if self.peek() == "(":
                return self._call(name, start)
            if name.lower() in _KEYWORDS:
                return Literal(_KEYWORDS[name.lower()], start)
            raise self.fail(
                f"'{name}' is not a value: write a function call such as {name}(...), a quoted string "
                f"'{name}', a number, true, false or null",
                at=start,
            )
        raise self.fail(
            f"expected an expression (a function call, string, number, true, false or null), found {char!r}"
        )

    def _take(self, allowed: frozenset[str]) -> str:
        text, pos = self.text, self.pos
        while pos < len(text) and text[pos] in allowed:
            pos += 1
        name, self.pos = text[self.pos : pos], pos
        return name

    def _string(self) -> str:
        text, start = self.text, self.pos
        pos = start + 1
        chunks: list[str] = []
        while True:
            end = text.find("'", pos)
            if end == -1:
                raise self.fail(
                    "unterminated string: add a closing ' (write '' for a quote inside a string)", at=start
                )
            chunks.append(text[pos:end])
            if text.startswith("''", end):
                chunks.append("'")
                pos = end + 2
                continue
            self.pos = end + 1
            return "".join(chunks)

    def _number(self) -> int | float:
        text, start = self.text, self.pos
        pos = start + (text[start] in "-+")
        digits_start = pos
        while pos < len(text) and text[pos].isdigit():
            pos += 1
        is_float = False
        if pos < len(text) and text[pos] == ".":
            is_float = True
            pos += 1
            while pos < len(text) and text[pos].isdigit():
                pos += 1
        if pos == digits_start or text[digits_start:pos] == ".":
            raise self.fail("expected a number", at=start)
        if pos < len(text) and text[pos] in "eE":
            exp = pos + 1
            if exp < len(text) and text[exp] in "+-":
                exp += 1
            if exp < len(text) and text[exp].isdigit():
                is_float = True
                pos = exp
                while pos < len(text) and text[pos].isdigit():
                    pos += 1
        self.pos = pos
        literal = text[start:pos]
        if is_float:
            return float(literal)
        value = int(literal)
        if not _INT64[0] <= value <= _INT64[1]:
            raise self.fail(
                f"the integer {literal} is outside the 64-bit range: write it as a string, or as a "
                "decimal number such as 1.0E19",
                at=start,
            )
        return value

    def _call(self, name: str, start: int) -> Call:
        function = FUNCTIONS.get(name)
        if function is None:
            raise self.fail(_unknown_function(name), at=start)
        self.pos += 1  # the '('
        args: list[Node] = []
        if self.peek() == ")":
            self.pos += 1
        else:
            while True:
                args.append(self.expression())
                char = self.peek()
                if char == ",":
                    self.pos += 1
                    continue
                if char == ")":
                    self.pos += 1
                    break
                raise self.fail(
                    f"expected ',' or ')' after argument {len(args)} of {function.name}(), found "
                    f"{self._describe()}"
                )
        problem = function.check_arity(len(args))
        if problem:
            raise self.fail(problem, at=start)
        return Call(function.name, tuple(args), start)


def _unknown_function(name: str) -> str:
    names = {n.lower(): n for n in FUNCTIONS}
    close = difflib.get_close_matches(name.lower(), list(names), n=1, cutoff=0.75)
    hint = f"; did you mean '{names[close[0]]}'?" if close else ""
    return f"unknown function '{name}'{hint}"


def _interpolation(text: str) -> Interpolation | str:
    parts: list[str | Node] = []
    literal: list[str] = []
    pos = 0
    while True:
        at = text.find("@", pos)
        if at == -1:
            literal.append(text[pos:])
            break
        literal.append(text[pos:at])
        if text.startswith("@@{", at):
            # '@@{' writes a literal '@{' instead of starting an interpolation.
            literal.append("@{")
            pos = at + 3
        elif text.startswith("@{", at):
            if literal:
                parts.append("".join(literal))
                literal = []
            reader = _Reader(text, at + 2)
            parts.append(reader.expression())
            if reader.peek() != "}":
                raise reader.fail(
                    f"expected '}}' to close the '@{{' opened at column {at + 1}, found {reader._describe()}"
                )
            pos = reader.pos + 1
        else:
            literal.append("@")
            pos = at + 1
    if literal and "".join(literal):
        parts.append("".join(literal))
    if all(isinstance(part, str) for part in parts):
        return "".join(str(part) for part in parts)
    return Interpolation(tuple(parts))


@lru_cache(maxsize=4096)
def parse(text: str) -> Expression:
    """Parse one JSON string value of a workflow definition.

    A value starting with ``@`` is a single expression with a typed result; ``@{...}`` inside text
    interpolates (the result is always a string); a leading ``@@`` escapes the ``@``; anything else is
    a literal. Parsing is cached because a flow evaluates the same inputs on every run and iteration.

    Raises:
        ExpressionError: with the 1-based column and a caret line pointing at the problem.
    """
    if text.startswith("@@"):
        return Expression(text, text[1:])
    if text == "@":
        # A lone '@' is no expression at all: Logic Apps keeps it as the literal text.
        return Expression(text, text)
    if text.startswith("@") and not text.startswith("@{"):
        reader = _Reader(text, 1)
        node = reader.expression()
        reader.skip_space()
        if reader.pos < len(text):
            raise reader.fail(
                f"unexpected {reader._describe()} after the expression: to mix text and "
                "expressions, write the expressions as @{...}"
            )
        return Expression(text, node)
    if "@" not in text:
        return Expression(text, text)
    return Expression(text, _interpolation(text))


@lru_cache(maxsize=4096)
def parse_bare(text: str) -> Expression:
    """Parse an expression written without its leading ``@`` (as the documentation and the CLI show it)."""
    reader = _Reader(text, 0)
    node = reader.expression()
    reader.skip_space()
    if reader.pos < len(text):
        raise reader.fail(f"unexpected {reader._describe()} after the expression")
    return Expression(text, node)
