"""Errors of the expression language, each pointing at the exact place in the expression.

A flow author reads these in the designer, the CLI or a run's history, so every message says what was
expected and shows the expression with a caret under the culprit, like a compiler does.
"""

from __future__ import annotations

from tether.errors import InputError

__all__ = ["ExpressionError", "ExpressionEvaluationError"]


def _locate(text: str, offset: int) -> tuple[int, int, str]:
    """Return the 1-based line and column of ``offset`` and the text of that line."""
    offset = max(0, min(offset, len(text)))
    line_start = text.rfind("\n", 0, offset) + 1
    line_end = text.find("\n", offset)
    if line_end == -1:
        line_end = len(text)
    line = text.count("\n", 0, offset) + 1
    return line, offset - line_start + 1, text[line_start:line_end]


class ExpressionError(InputError):
    """An expression that cannot be read: bad syntax, an unknown function, a wrong argument count.

    ``expression`` is the whole string as written, ``line`` and ``column`` are 1-based and
    ``offset`` is 0-based into ``expression``; ``reason`` is the message without the excerpt.
    """

    code = "invalid-expression"

    def __init__(self, reason: str, *, expression: str, offset: int) -> None:
        line, column, line_text = _locate(expression, offset)
        caret = " " * (column - 1) + "^"
        where = f"column {column}" if "\n" not in expression else f"line {line}, column {column}"
        message = f"{reason} (at {where})\n  {line_text}\n  {caret}"
        super().__init__(
            message,
            detail={"expression": expression, "line": line, "column": column, "reason": reason},
        )
        self.reason, self.expression, self.offset = reason, expression, offset
        self.line, self.column = line, column


class ExpressionEvaluationError(ExpressionError):
    """A well-formed expression that failed while running (a type mismatch, a missing property...).

    It is separate from :class:`ExpressionError` because the run engine treats it differently: a
    definition with a syntax error is rejected when saved, while this one fails a single action.
    """

    code = "expression-evaluation-failed"
