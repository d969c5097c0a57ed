"""How the CLI talks to people and to scripts.

Human output goes through rich consoles (results on stdout, progress and problems on
stderr); ``--json`` output is plain JSON on stdout so scripts can pipe it. Errors are one
clear line — what, where, how to fix — never a traceback.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Annotated, Any, NoReturn, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from tether.errors import TetherError

__all__ = [
    "EXIT_FINDINGS",
    "EXIT_INPUT",
    "EXIT_OK",
    "JsonOption",
    "err",
    "fail",
    "friendly",
    "out",
    "print_items",
    "print_json",
]

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_INPUT = 2

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def print_json(value: Any) -> None:
    """Write ``value`` as indented JSON on stdout (not through rich, so nothing is wrapped)."""
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def print_items(
    items: Sequence[dict[str, Any]],
    *,
    as_json: bool,
    row: Callable[[dict[str, Any]], Sequence[str]],
    columns: Sequence[str] = (),
    empty: str | None = None,
) -> None:
    """Print what a ``list`` command fetched: JSON with ``--json``, else one row per item.

    ``row`` gives an item's cells (rich markup). With ``columns`` the rows form a table;
    without, each is one line, cells two spaces apart. ``empty``, when given, is said instead
    of an empty table (else the bare header shows there is nothing).
    """
    if as_json:
        print_json(items)
    elif not items and empty is not None:
        out.print(empty)
    elif columns and not out.is_terminal:
        # Piped or redirected: whole cells, tab-separated, so no id is folded or cut to fit a width.
        for line in (columns, *(row(item) for item in items)):
            sys.stdout.write("\t".join(Text.from_markup(cell).plain for cell in line) + "\n")
        sys.stdout.flush()
    elif columns:
        table = Table(*columns)
        for item in items:
            table.add_row(*row(item))
        out.print(table)
    else:
        for item in items:
            out.print("  ".join(row(item)))


def fail(error: TetherError | str, *, code: int = EXIT_INPUT, hint: str | None = None) -> NoReturn:
    """Print one error line (plus an optional next step) on stderr and exit with ``code``."""
    message = error.message if isinstance(error, TetherError) else error
    err.print(f"[bold red]error:[/] {escape(message)}")
    if hint:
        err.print(f"[dim]hint:[/] {escape(hint)}")
    raise typer.Exit(code)


P = ParamSpec("P")
R = TypeVar("R")


def friendly(command: Callable[P, R]) -> Callable[P, R]:
    """Make a command print one clear line for a TetherError instead of a traceback.

    Unexpected exceptions are bugs: they also get one line, plus how to see the traceback
    (``TETHER_DEBUG=1``) to report it.
    """

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except TetherError as exc:
            hint = "run 'tether login' first" if exc.code == "unauthenticated" else None
            fail(exc, hint=hint)
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:
            if os.environ.get("TETHER_DEBUG"):
                raise
            fail(
                f"internal error ({exc.__class__.__name__}: {exc})",
                hint="rerun with TETHER_DEBUG=1 and report the traceback",
            )

    return wrapper
