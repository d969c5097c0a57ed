"""The workflow definition language's expressions: parse, evaluate, and the function library.

Pure: no network, no disk. ``parse`` turns a JSON string value into a tree (cached), ``evaluate``
walks a whole JSON value the way the run engine evaluates an action's inputs, and ``FUNCTIONS`` is
the one case-insensitive registry of every Logic Apps function.
"""

from __future__ import annotations

from ._ast import Expression
from ._cli import context_from_json, evaluate_for_cli, render_json
from ._context import NO_ITEM, ExpressionContext
from ._dotnet._timestamps import Duration, parse_duration
from ._errors import ExpressionError, ExpressionEvaluationError
from ._evaluator import evaluate, evaluate_expression, evaluate_parsed
from ._parser import parse
from .functions import FUNCTIONS, Function

__all__ = [
    "FUNCTIONS",
    "NO_ITEM",
    "Duration",
    "Expression",
    "ExpressionContext",
    "ExpressionError",
    "ExpressionEvaluationError",
    "Function",
    "context_from_json",
    "evaluate",
    "evaluate_expression",
    "evaluate_for_cli",
    "evaluate_parsed",
    "parse",
    "parse_duration",
    "render_json",
]
