"""``tether flow …``: workflow definitions on a server; ``validate`` works offline.

``create``/``update`` read a definition file (bare, Logic Apps resource or ARM template) and map the
definition's ``$connections`` names to Tether connections with ``--connection name=id``. The run
commands (``run``, ``runs``, ``run-show``, ``resubmit``, ``cancel``) live in ``flow_runs`` and join
this group.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from tether.cli import flow_runs
from tether.cli._context import (
    EnvOption,
    FlowArgument,
    IfMatchOption,
    ServerOption,
    TokenOption,
    client_for,
    fetch_items,
)
from tether.cli._output import EXIT_FINDINGS, EXIT_INPUT, JsonOption, friendly, out, print_items, print_json
from tether.cli.sharing import add_sharing_commands
from tether.definition import read_document
from tether.errors import InputError, TetherError

__all__ = ["app"]

app = typer.Typer(
    help="Workflow definitions (Logic Apps workflow definition language).", no_args_is_help=True
)
add_sharing_commands(app, collection="flows", noun="flow", permissions=("edit", "run"))


@app.command()
@friendly
def validate(
    files: Annotated[
        list[Path], typer.Argument(help="Definition files: bare, Logic Apps resource or ARM template.")
    ],
    as_json: JsonOption = False,
) -> None:
    """Check definitions offline: runAfter targets, cycles, expressions (with positions), supported types.

    Exit codes: 0 valid, 1 issues found, 2 unreadable input.
    """
    from tether.flows import load_flow, validate_flow  # the expression engine loads only when needed

    results: list[dict[str, Any]] = []
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


ConnectionOption = Annotated[
    list[str] | None,
    typer.Option(
        "--connection", "-c", help="Map a $connections name to a connection id: NAME=ID (repeatable)."
    ),
]
ParameterOption = Annotated[
    list[str] | None,
    typer.Option("--param", "-p", help="A definition parameter value: NAME=JSON (repeatable)."),
]
KindOption = Annotated[
    str | None,
    typer.Option(
        "--kind",
        help="stateful or stateless (runs in memory, stores only failures or a sample); "
        "default: the file's own top-level kind, else stateful.",
    ),
]
RunHistoryOption = Annotated[
    str | None,
    typer.Option("--run-history", help="Which runs a stateless flow stores: failures, sampled:N or all."),
]


def _pairs(values: list[str] | None, *, what: str, parse: bool = False) -> dict[str, Any]:
    pairs: dict[str, Any] = {}
    for value in values or []:
        name, sep, rest = value.partition("=")
        if not sep or not name:
            raise InputError(f"{what} {value!r} is not NAME=VALUE")
        if parse:
            try:
                pairs[name] = json.loads(rest)
            except ValueError:
                pairs[name] = rest  # a bare string needs no quotes
        else:
            pairs[name] = rest
    return pairs


def _definition(file: Path) -> tuple[dict[str, Any], str | None]:
    """The bare definition in ``file``, and the ``kind`` a Standard workflow.json puts beside it."""
    from tether.flows import load_flow  # finds the definition inside resources and ARM templates

    document = read_document(file).data
    kind = document.get("kind") if isinstance(document, dict) and "definition" in document else None
    return dict(load_flow(document, name=str(file)).raw), None if kind is None else str(kind)


def _show_flow(flow: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(flow)
        return
    state = "enabled" if flow["enabled"] else "disabled"
    out.print(
        f"[bold]{escape(flow['name'])}[/] ({escape(flow['id'])}) — {state}, trigger "
        f"{escape(str(flow['trigger_name']))} ({escape(str(flow['trigger_type']))}), "
        f"version {flow['version']}"
    )
    if flow.get("suspended_reason"):
        out.print(f"  [yellow]suspended:[/] {escape(flow['suspended_reason'])}")
    if flow.get("kind") == "Stateless":
        out.print(f"  stateless: runs in memory, stores {escape(str(flow.get('run_history')))} runs")
    if flow.get("next_fire_at"):
        out.print(f"  next tick: {flow['next_fire_at']}")
    for name, connection in (flow.get("connections") or {}).items():
        out.print(f"  connection {escape(name)} → {escape(connection)}")


@app.command()
@friendly
def create(
    file: Annotated[Path | None, typer.Argument(help="Definition file (or --template).")] = None,
    name: Annotated[
        str | None, typer.Option("--name", "-n", help="Flow name (slug, unique in the environment).")
    ] = None,
    template: Annotated[
        str | None,
        typer.Option(
            "--template",
            help="A shipped template instead of a file: redirect-uri-audit, redirect-uri-audit-per-creator "
            "(map its connections: --connection admins=ID --connection mail=ID).",
        ),
    ] = None,
    display_name: Annotated[str | None, typer.Option("--display-name")] = None,
    connection: ConnectionOption = None,
    param: ParameterOption = None,
    disabled: Annotated[bool, typer.Option("--disabled", help="Create it switched off.")] = False,
    kind: KindOption = None,
    run_history: RunHistoryOption = None,
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a flow from a definition file or a shipped template."""
    if (file is None) == (template is None):
        raise InputError("Give a definition file or --template NAME (one of them).")
    if file is not None:
        definition, file_kind = _definition(file)
    else:
        with client_for(server, token) as client:
            definition, file_kind = client.json("GET", f"/flow-templates/{template}")["definition"], None
    if name is None and template is None:
        raise InputError("Give the flow a --name.")
    payload = {
        "name": name or template,
        "display_name": display_name,
        "definition": definition,
        "connections": _pairs(connection, what="--connection"),
        "parameters": _pairs(param, what="--param", parse=True),
        "enabled": not disabled,
        "kind": kind or file_kind,
        "run_history": run_history,
    }
    with client_for(server, token) as client:
        _show_flow(client.json("POST", f"/environments/{env}/flows", json=payload), as_json)


@app.command()
@friendly
def update(
    flow: FlowArgument,
    file: Annotated[Path | None, typer.Option("--file", "-f", help="New definition file.")] = None,
    display_name: Annotated[str | None, typer.Option("--display-name")] = None,
    connection: ConnectionOption = None,
    param: ParameterOption = None,
    kind: KindOption = None,
    run_history: RunHistoryOption = None,
    env: EnvOption = "default",
    if_match: IfMatchOption = None,
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change a flow's definition, connections, parameters, kind or display name (runs keep theirs)."""
    payload: dict[str, Any] = {"display_name": display_name, "kind": kind, "run_history": run_history}
    if file is not None:
        payload["definition"], file_kind = _definition(file)
        payload["kind"] = kind or file_kind
    if connection:
        payload["connections"] = _pairs(connection, what="--connection")
    if param:
        payload["parameters"] = _pairs(param, what="--param", parse=True)
    with client_for(server, token) as client:
        path = f"/environments/{env}/flows/{flow}"
        headers = client.if_match(path, if_match)
        _show_flow(client.json("PATCH", path, json=payload, headers=headers), as_json)


def _switch(flow: str, action: str, env: str, server: str | None, token: str | None, as_json: bool) -> None:
    with client_for(server, token) as client:
        _show_flow(client.json("POST", f"/environments/{env}/flows/{flow}/{action}"), as_json)


@app.command()
@friendly
def enable(
    flow: FlowArgument,
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Switch a flow on: its trigger fires again."""
    _switch(flow, "enable", env, server, token, as_json)


@app.command()
@friendly
def disable(
    flow: FlowArgument,
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Switch a flow off: its trigger stops firing (runs can still be started by hand)."""
    _switch(flow, "disable", env, server, token, as_json)


@app.command()
@friendly
def delete(
    flow: FlowArgument,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
) -> None:
    """Delete a flow and its run history."""
    if not yes:
        typer.confirm(f"Delete flow {flow} and all its runs?", abort=True)
    with client_for(server, token) as client:
        client.request("DELETE", f"/environments/{env}/flows/{flow}")
    out.print(f"Deleted flow {escape(flow)}.")


@app.command("list")
@friendly
def list_flows(
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the environment's flows."""
    print_items(
        fetch_items(server, token, f"/environments/{env}/flows"),
        as_json=as_json,
        columns=("name", "trigger", "state", "version", "id"),
        row=lambda f: (
            f["name"],
            f"{f['trigger_name']} ({f['trigger_type']})",
            "enabled" if f["enabled"] else "disabled",
            str(f["version"]),
            f["id"],
        ),
    )


@app.command()
@friendly
def show(
    flow: FlowArgument,
    definition: Annotated[bool, typer.Option("--definition", help="Print the definition (JSON).")] = False,
    callback_url: Annotated[
        bool, typer.Option("--callback-url", help="Print the Request trigger's URL.")
    ] = False,
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show a flow (and, on request, its definition or signed callback URL)."""
    with client_for(server, token) as client:
        info = client.json("GET", f"/environments/{env}/flows/{flow}")
        url = (
            client.json("POST", f"/environments/{env}/flows/{flow}/callback-url")["value"]
            if callback_url
            else None
        )
    if as_json:
        print_json({**info, "callback_url": url} if url else info)
    elif definition:
        print_json(info["definition"])
    else:
        _show_flow(info, False)
        if url:
            out.print(f"  callback URL: {escape(url)}")


app.add_typer(flow_runs.app)  # after the commands above, so help lists them first
