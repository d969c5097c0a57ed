"""``tether solution export|import``: move connectors, flows and variables between environments."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from tether.cli._context import EnvOption, ServerOption, TokenOption, client_for
from tether.cli._output import JsonOption, friendly, out, print_json
from tether.errors import InputError

__all__ = ["app"]

app = typer.Typer(
    help="Solutions: move connectors, flows and environment variables between environments as one zip.",
    no_args_is_help=True,
)

SHIPPED = "redirect-uri-audit"


def _pairs(values: list[str] | None, what: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values or []:
        name, sep, rest = value.partition("=")
        if not sep or not name:
            raise InputError(f"{what} {value!r} is not NAME=VALUE")
        pairs[name] = rest
    return pairs


@app.command("export")
@friendly
def export(
    connector: Annotated[
        list[str] | None, typer.Option("--connector", help="A connector (repeatable).")
    ] = None,
    flow: Annotated[list[str] | None, typer.Option("--flow", help="A flow (repeatable).")] = None,
    variable: Annotated[
        list[str] | None, typer.Option("--variable", help="An environment variable name (repeatable).")
    ] = None,
    name: Annotated[str, typer.Option(help="The solution's name.")] = "solution",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
) -> None:
    """Write a solution zip: tether solution export --env A --connector C --flow F > sol.zip"""
    if not (connector or flow or variable):
        raise InputError("Name what goes in: --connector, --flow and/or --variable.")
    body = {"name": name, "connectors": connector or [], "flows": flow or [], "variables": variable or []}
    with client_for(server, token) as client:
        content = client.request("POST", f"/environments/{env}/solutions/export", json=body).content
    if output is not None:
        output.write_bytes(content)
        out.print(f"Wrote {output} ({len(content):,} bytes).")
    else:
        sys.stdout.buffer.write(content)
        sys.stdout.flush()


@app.command("import")
@friendly
def import_(
    file: Annotated[Path | None, typer.Argument(help="The solution zip.")] = None,
    builtin: Annotated[
        str | None,
        typer.Option("--builtin", help=f"A solution shipped with Tether instead of a file: {SHIPPED}."),
    ] = None,
    connection: Annotated[
        list[str] | None,
        typer.Option(
            "--connection", "-c", help="Bind a connection reference: REFERENCE=CONNECTION_ID (repeatable)."
        ),
    ] = None,
    variable: Annotated[
        list[str] | None, typer.Option("--variable", help="An environment variable's value here: NAME=VALUE.")
    ] = None,
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import a solution into an environment, all or nothing; unbound connection references are listed."""
    if (file is None) == (builtin is None):
        raise InputError("Give a solution zip or --builtin NAME (one of them).")
    data: dict[str, Any] = {
        "connections": json.dumps(_pairs(connection, "--connection")),
        "variables": json.dumps(_pairs(variable, "--variable")),
    }
    files = None
    if builtin is not None:
        data["builtin"] = builtin
    elif file is not None:
        if not file.is_file():
            raise InputError(f"{file}: no such file.")
        files = {"solution": (file.name, file.read_bytes(), "application/zip")}
    with client_for(server, token) as client:
        report = client.json("POST", f"/environments/{env}/solutions/import", data=data, files=files)
    if as_json:
        print_json(report)
        return
    for kind in ("connectors", "flows", "environment_variables"):
        for item in report[kind]:
            out.print(f"{kind.rstrip('s').replace('_', ' ')} {escape(item['name'])}: {item['action']}")
    out.print(f"Imported into {escape(report['environment'])}.")
