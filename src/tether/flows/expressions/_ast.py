"""The syntax tree of an expression: small immutable nodes that remember where they were written.

Every node keeps ``start`` (a 0-based offset into the original string) so evaluation errors can point
at the argument or property access that failed, not just at the whole expression.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias


@dataclass(frozen=True, slots=True)
class Literal:
    """A string, number, boolean or null written in the expression."""

    value: Any
    start: int


@dataclass(frozen=True, slots=True)
class Call:
    """A function call such as ``concat('a', 'b')``; ``name`` is as written (any case)."""

    name: str
    args: tuple[Node, ...]
    start: int


@dataclass(frozen=True, slots=True)
class Access:
    """``target.name`` or ``target[key]``; ``optional`` marks the null-safe ``?`` form."""

    target: Node
    key: Node
    optional: bool
    start: int


Node: TypeAlias = Literal | Call | Access


@dataclass(frozen=True, slots=True)
class Interpolation:
    """A string value with ``@{...}`` parts: text pieces (``str``) and expressions, in order."""

    parts: tuple[str | Node, ...]


@dataclass(frozen=True, slots=True)
class Expression:
    """A parsed string value: the source text and what it holds.

    ``body`` is a :data:`Node` for a whole-string ``@expression`` (typed result), an
    :class:`Interpolation` for text with ``@{...}`` (string result), or a plain ``str`` for a
    literal (no ``@``, or an escaped ``@@``).
    """

    text: str
    body: Node | Interpolation | str

    @property
    def is_literal(self) -> bool:
        """True when the string holds no expression at all."""
        return isinstance(self.body, str)
