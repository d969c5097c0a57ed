"""``tether flow run``, ``runs``, ``run-show``, ``resubmit`` and ``cancel``: a flow's runs on a server.

``run`` starts a run with a body (``--wait`` follows it to the end); the others work on run
history. The commands join the ``tether flow`` group (see ``flow``).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from tether.cli._context import EnvOption, FlowArgument, ServerOption, TokenOption, client_for, fetch_items
from tether.cli._output import EXIT_FINDINGS, JsonOption, friendly, out, print_items, print_json
from tether.errors import InputError

__all__ = ["app"]

# Merged into the ``tether flow`` group: no name, help or callback of its own.
app = typer.Typer()

RunArgument = Annotated[str, typer.Argument(help="Run id.")]
_FINAL = {"Succeeded", "Failed", "Cancelled"}
_STATUS_STYLE = {
    "Succeeded": "green",
    "Failed": "red",
    "Cancelled": "yellow",
    "Skipped": "dim",
    "TimedOut": "red",
}


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


def _run_line(run: dict[str, Any]) -> str:
    return f"run {escape(run['id'])}: {_styled(run['status'])}"


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
        out.print(_run_line(result))
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
    print_items(
        fetch_items(server, token, f"/environments/{env}/flows/{flow}/runs", params=params),
        as_json=as_json,
        columns=("run", "status", "trigger", "started", "ended"),
        row=lambda r: (
            r["id"],
            _styled(r["status"]),
            r["trigger_name"],
            str(r["started_at"] or ""),
            str(r["ended_at"] or ""),
        ),
    )


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
    out.print(_run_line(run_info))
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
        out.print(_run_line(result))


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
    if as_json:
        print_json(result)
    else:
        out.print(f"run {escape(result['id'])}: cancel requested ({result['status']})")
