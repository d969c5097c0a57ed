"""``tether invoke``: call one operation of a connector through your connection, on a server.

Arguments go by parameter name (``--arg item=42``; a value that parses as JSON is JSON, so
``--arg top=5`` is the number 5 and ``--arg 'ids=[1,2]'`` a list, anything else a string) and
the body with ``--body`` (JSON text, or ``@file`` to read it). The answer's status and body are
printed (JSON pretty-printed); ``--json`` prints the server's whole answer. The exit code is 1
when the API answered an error status, so scripts can tell.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from tether.cli._context import EnvOption, ServerOption, TokenOption, client_for
from tether.cli._output import out, print_json
from tether.errors import InputError

__all__ = ["invoke", "parse_arguments"]

ArgOption = Annotated[
    list[str] | None,
    typer.Option("--arg", "-a", help="An argument, name=value (repeatable; JSON values are parsed)."),
]
BodyOption = Annotated[
    str | None, typer.Option("--body", "-b", help="The request body: JSON text, or @file to read it.")
]


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_arguments(pairs: list[str] | None, body: str | None) -> dict[str, Any]:
    """``--arg`` pairs and ``--body`` as the invoke endpoint's arguments."""
    arguments: dict[str, Any] = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise InputError(f"--arg expects name=value, got {pair!r}")
        arguments[name.strip()] = _value(value)
    if body is not None:
        text = body
        if body.startswith("@"):
            path = Path(body[1:])
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise InputError(f"--body: cannot read {path}: {exc.strerror or exc}") from exc
        try:
            arguments["body"] = json.loads(text)
        except ValueError as exc:
            raise InputError(f"--body is not valid JSON ({exc}); give JSON text or @file.json") from exc
    return arguments


def invoke(
    connection: Annotated[str, typer.Argument(help="Your connection's id.")],
    operation: Annotated[str, typer.Argument(help="The operationId to call.")],
    arg: ArgOption = None,
    body: BodyOption = None,
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole answer as JSON.")] = False,
) -> None:
    """Call an operation through your connection and print the API's answer."""
    arguments = parse_arguments(arg, body)
    with client_for(server, token) as client:
        answer = client.json(
            "POST", f"/environments/{env}/connections/{connection}/invoke/{operation}", json=arguments
        )
    if as_json:
        print_json(answer)
    else:
        status = answer["status"]
        colour = "green" if status < 400 else "red"
        out.print(f"[bold {colour}]{status}[/] {escape(answer.get('content_type') or '')}")
        for warning in answer.get("warnings") or []:
            out.print(f"[yellow]warning:[/] {escape(warning)}")
        shown = answer["body"]
        if answer.get("body_encoding") == "base64":
            out.print(f"({len(shown) * 3 // 4} bytes of binary content, base64 in --json)")
        elif isinstance(shown, str):
            out.print(escape(shown))
        elif shown is not None:
            print_json(shown)
    if answer["status"] >= 400:
        raise typer.Exit(1)
