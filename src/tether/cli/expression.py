"""``tether expression eval``: debug a workflow expression offline, as Logic Apps evaluates it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from tether.cli._output import friendly, print_json
from tether.errors import InputError

__all__ = ["app"]

app = typer.Typer(help="The workflow expression language, offline.", no_args_is_help=True)


@app.command("eval")
@friendly
def evaluate(
    expression: Annotated[str, typer.Argument(help="An expression, e.g. \"@concat('a', variables('x'))\".")],
    context: Annotated[
        Path | None,
        typer.Option(
            "--context",
            "-c",
            help="JSON file with parameters, variables, trigger/triggerOutputs, actions, items, workflow, "
            "utcNow (a fixed clock) and seed (repeatable rand/guid).",
        ),
    ] = None,
) -> None:
    """Evaluate EXPRESSION and print the result as JSON (errors show the column with a caret)."""
    from tether.flows.expressions import evaluate_for_cli

    print_json(evaluate_for_cli(expression, _context(context)))


def _context(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from exc
    return data
