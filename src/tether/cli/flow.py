"""``tether flow …``: workflow definitions and their runs on a server; ``validate`` works offline.

``create``/``update`` read a definition file (bare, Logic Apps resource or ARM template) and map the
definition's ``$connections`` names to Tether connections with ``--connection name=id``. ``run``
starts a run with a body (``--wait`` follows it to the end); ``runs``, ``run-show``, ``resubmit``
and ``cancel`` work on run history.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from tether.cli._context import EnvOption, ServerOption, TokenOption, client_for
from tether.cli._output import EXIT_FINDINGS, EXIT_INPUT, friendly, out, print_json
from tether.definition import read_document
from tether.errors import InputError, TetherError

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


JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
FlowArgument = Annotated[str, typer.Argument(help="Flow name or id.")]
RunArgument = Annotated[str, typer.Argument(help="Run id.")]
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
_FINAL = {"Succeeded", "Failed", "Cancelled"}
_STATUS_STYLE = {
    "Succeeded": "green",
    "Failed": "red",
    "Cancelled": "yellow",
    "Skipped": "dim",
    "TimedOut": "red",
}


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


def _definition(file: Path) -> dict[str, Any]:
    from tether.flows import load_flow  # finds the definition inside resources and ARM templates

    return dict(load_flow(read_document(file).data, name=str(file)).raw)


def _body(body: str | None, body_file: Path | None) -> Any:
    if body is not None and body_file is not None:
        raise InputError("give --body or --body-file, not both")
    text = body_file.read_text() if body_file is not None else body
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _styled(status: str) -> str:
    return f"[{_STATUS_STYLE.get(status, 'cyan')}]{status}[/]"


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
    if flow.get("next_fire_at"):
        out.print(f"  next tick: {flow['next_fire_at']}")
    for name, connection in (flow.get("connections") or {}).items():
        out.print(f"  connection {escape(name)} → {escape(connection)}")


@app.command()
@friendly
def create(
    file: Annotated[Path, typer.Argument(help="Definition file.")],
    name: Annotated[str, typer.Option("--name", "-n", help="Flow name (slug, unique in the environment).")],
    display_name: Annotated[str | None, typer.Option("--display-name")] = None,
    connection: ConnectionOption = None,
    param: ParameterOption = None,
    disabled: Annotated[bool, typer.Option("--disabled", help="Create it switched off.")] = False,
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a flow from a definition file."""
    payload = {
        "name": name,
        "display_name": display_name,
        "definition": _definition(file),
        "connections": _pairs(connection, what="--connection"),
        "parameters": _pairs(param, what="--param", parse=True),
        "enabled": not disabled,
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
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change a flow's definition, connections, parameters or display name (runs in flight keep theirs)."""
    payload: dict[str, Any] = {"display_name": display_name}
    if file is not None:
        payload["definition"] = _definition(file)
    if connection:
        payload["connections"] = _pairs(connection, what="--connection")
    if param:
        payload["parameters"] = _pairs(param, what="--param", parse=True)
    with client_for(server, token) as client:
        _show_flow(client.json("PATCH", f"/environments/{env}/flows/{flow}", json=payload), as_json)


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
    with client_for(server, token) as client:
        items = client.json("GET", f"/environments/{env}/flows")["items"]
    if as_json:
        print_json(items)
        return
    table = Table("name", "trigger", "state", "version", "id")
    for f in items:
        table.add_row(
            f["name"],
            f"{f['trigger_name']} ({f['trigger_type']})",
            "enabled" if f["enabled"] else "disabled",
            str(f["version"]),
            f["id"],
        )
    out.print(table)


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


@app.command()
@friendly
def run(
    flow: FlowArgument,
    body: Annotated[str | None, typer.Option("--body", "-b", help="Trigger body (JSON, or text).")] = None,
    body_file: Annotated[
        Path | None, typer.Option("--body-file", help="Read the trigger body from a file.")
    ] = None,
    wait: Annotated[
        bool, typer.Option("--wait", "-w", help="Wait for the run to end; exit 1 unless it succeeds.")
    ] = False,
    timeout: Annotated[float, typer.Option(help="Seconds --wait waits at most.")] = 300.0,
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Start a run by hand with a trigger body; prints the run id."""
    with client_for(server, token) as client:
        started = client.json(
            "POST", f"/environments/{env}/flows/{flow}/runs", json={"body": _body(body, body_file)}
        )
        result = started
        if wait:
            deadline = time.monotonic() + timeout
            while result["status"] not in _FINAL and time.monotonic() < deadline:
                time.sleep(0.2)
                result = client.json("GET", f"/environments/{env}/flows/{flow}/runs/{started['id']}")["run"]
    if as_json:
        print_json(result)
    else:
        out.print(f"run {escape(result['id'])}: {_styled(result['status'])}")
        if result.get("error"):
            out.print(f"  {escape(str(result['error'].get('message', result['error'])))}")
    if wait and result["status"] != "Succeeded":
        raise typer.Exit(EXIT_FINDINGS)


@app.command()
@friendly
def runs(
    flow: FlowArgument,
    status: Annotated[str | None, typer.Option(help="Only runs with this status.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many (newest first).")] = 20,
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """List a flow's runs, newest first."""
    params: dict[str, Any] = {"limit": limit, **({"status": status} if status else {})}
    with client_for(server, token) as client:
        items = client.json("GET", f"/environments/{env}/flows/{flow}/runs", params=params)["items"]
    if as_json:
        print_json(items)
        return
    table = Table("run", "status", "trigger", "started", "ended")
    for r in items:
        table.add_row(
            r["id"],
            _styled(r["status"]),
            r["trigger_name"],
            str(r["started_at"] or ""),
            str(r["ended_at"] or ""),
        )
    out.print(table)


@app.command("run-show")
@friendly
def run_show(
    flow: FlowArgument,
    run_id: RunArgument,
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show a run: status, error, and every action with its status, code and retries."""
    with client_for(server, token) as client:
        detail = client.json("GET", f"/environments/{env}/flows/{flow}/runs/{run_id}")
    if as_json:
        print_json(detail)
        return
    run_info = detail["run"]
    out.print(f"run {escape(run_info['id'])}: {_styled(run_info['status'])}")
    if run_info.get("error"):
        out.print(f"  error: {escape(json.dumps(run_info['error']))}")
    for action in detail["actions"]:
        retries = f", {len(action['retries'])} retries" if action["retries"] else ""
        out.print(
            f"  {escape(action['path'])} [dim]({action['type']})[/] {_styled(action['status'])} "
            f"{escape(str(action['code'] or ''))}{retries}"
        )
        if action.get("error") and action["status"] != "Skipped":
            out.print(f"    {escape(str(action['error'].get('message', '')))}")


@app.command()
@friendly
def resubmit(
    flow: FlowArgument,
    run_id: RunArgument,
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run the flow again with the trigger outputs of an earlier run."""
    with client_for(server, token) as client:
        result = client.json("POST", f"/environments/{env}/flows/{flow}/runs/{run_id}/resubmit")
    if as_json:
        print_json(result)
    else:
        out.print(f"run {escape(result['id'])}: {_styled(result['status'])}")


@app.command()
@friendly
def cancel(
    flow: FlowArgument,
    run_id: RunArgument,
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Cancel a waiting or running run: it stops after the action in flight."""
    with client_for(server, token) as client:
        result = client.json("POST", f"/environments/{env}/flows/{flow}/runs/{run_id}/cancel")
    print_json(result) if as_json else out.print(
        f"run {escape(result['id'])}: cancel requested ({result['status']})"
    )
