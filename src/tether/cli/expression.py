"""``tether expression eval``: debug a workflow expression offline, as Logic Apps evaluates it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from tether.cli._output import friendly
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
    compact: Annotated[
        bool | None,
        typer.Option(
            "--compact/--indent",
            help="One line of JSON (the default when stdout is not a terminal) or indented JSON "
            "(the default on a terminal).",
        ),
    ] = None,
) -> None:
    """Evaluate EXPRESSION and print the result as JSON (errors show the column with a caret).

    EXPRESSION may be bare (``add(1, 2)``), start with ``@``, or be text with ``@{...}`` templates.
    """
    from tether.flows.expressions import evaluate_for_cli, render_json

    value = evaluate_for_cli(expression, _context(context))
    one_line = not sys.stdout.isatty() if compact is None else compact
    sys.stdout.write(render_json(value, compact=one_line) + "\n")
    sys.stdout.flush()


def _context(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from exc
    if not isinstance(data, dict):  # an empty array, false or null would pass as no context at all
        raise InputError(
            f"{path}: the context must be a JSON object (keys such as variables, trigger, utcNow), "
            f"not {type(data).__name__}"
        )
    return data
