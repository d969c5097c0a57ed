"""``tether flow …``: workflow definitions. ``validate`` works offline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from tether.cli._output import EXIT_FINDINGS, EXIT_INPUT, friendly, out, print_json
from tether.definition import read_document
from tether.errors import TetherError

__all__ = ["app"]

app = typer.Typer(
    help="Workflow definitions (Logic Apps workflow definition language).", no_args_is_help=True
)


@app.command()
@friendly
def validate(
    files: Annotated[
        list[Path], typer.Argument(help="Definition files: bare, Logic Apps resource or ARM template.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """Check definitions offline: runAfter targets, cycles, expressions (with positions), supported types.

    Exit codes: 0 valid, 1 issues found, 2 unreadable input.
    """
    from tether.flows import load_flow, validate_flow  # the expression engine loads only when needed

    results = []
    for file in files:
        try:
            issues = validate_flow(load_flow(read_document(file).data, name=str(file)))
            results.append({"file": str(file), "issues": [i.to_dict() for i in issues], "error": None})
        except TetherError as exc:
            results.append({"file": str(file), "issues": [], "error": exc.message})
    if as_json:
        print_json({"results": results})
    else:
        for result in results:
            if result["error"]:
                out.print(f"[bold red]error:[/] {escape(result['error'])}")
            elif not result["issues"]:
                out.print(f"[green]✓[/] {escape(result['file'])}")
            for issue in result["issues"]:
                out.print(
                    f"{escape(result['file'])}: {escape(issue['pointer'] or '/')}: "
                    f"{escape(issue['message'])} [dim]({issue['code']})[/]"
                )
    if any(r["error"] for r in results):
        raise typer.Exit(EXIT_INPUT)
    if any(r["issues"] for r in results):
        raise typer.Exit(EXIT_FINDINGS)
