"""``tether certify …``: submit a connector for certification, follow it, and review submissions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from tether.cli._context import EnvOption, ServerOption, TokenOption, client_for, fetch_items
from tether.cli._output import JsonOption, fail, friendly, out, print_items, print_json
from tether.errors import TetherError

__all__ = ["app"]

app = typer.Typer(
    help="Certification: submit a connector revision, see its status, review (certifiers).",
    no_args_is_help=True,
)

ConnectorArgument = Annotated[str, typer.Argument(help="Connector name or id.")]


@app.command("submit")
@friendly
def submit(
    connector: ConnectorArgument,
    connection: Annotated[
        str, typer.Option("--connection", "-c", help="Your connection to it: the test call uses it.")
    ],
    readme: Annotated[
        Path,
        typer.Option("--readme", help="readme.md: what it does, prerequisites, credentials, known issues."),
    ],
    operation: Annotated[
        str | None,
        typer.Option(help="The safe GET to test with, if the connector declares no testConnection."),
    ] = None,
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Submit the connector's current revision; the automatic checks run first and name every failing rule."""
    try:
        text = readme.read_text(encoding="utf-8")
    except OSError as exc:
        fail(f"cannot read {readme}: {exc.strerror}")
    body = {"connection": connection, "readme": text, "operation": operation}
    with client_for(server, token) as client:
        try:
            result = client.json(
                "POST", f"/environments/{env}/connectors/{connector}/certification", json=body
            )
        except TetherError as exc:
            issues = exc.detail.get("issues")
            if not isinstance(issues, list) or not issues:
                raise
            for issue in issues:
                where = issue.get("file", "") + (f"#{issue['pointer']}" if issue.get("pointer") else "")
                rule, message = escape(issue.get("rule", "")), escape(issue.get("message", ""))
                out.print(f"{escape(where)}: [red]{rule}[/] {message}")
            fail(f"{len(issues)} certification rule(s) fail; fix them and submit again")
    if as_json:
        print_json(result)
        return
    out.print(
        f"Submitted {escape(connector)} revision {result['revision']} for review (request {result['id']}); "
        f"follow it with 'tether certify status {escape(connector)}'."
    )


@app.command("status")
@friendly
def status(
    connector: ConnectorArgument,
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """The connector's submissions, newest first, with the reviewers' comments."""
    items = fetch_items(server, token, f"/environments/{env}/connectors/{connector}/certification")
    if as_json:
        print_json(items)
        return
    if not items:
        out.print(f"{escape(connector)} has never been submitted for certification.")
    for item in items:
        published = f", catalog v{item['catalog_version']}" if item["catalog_entry"] else ""
        out.print(f"revision {item['revision']}: [bold]{item['state']}[/] (request {item['id']}{published})")
        for comment in item["comments"]:
            verdict = f" ({comment['verdict']})" if comment["verdict"] else ""
            out.print(f"  {escape(comment['author'])}{verdict}: {escape(comment['body'])}")


@app.command("queue")
@friendly
def queue(
    state: Annotated[str, typer.Option(help="pending, approved, rejected or all.")] = "pending",
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Requests waiting for review (certifiers)."""
    print_items(
        fetch_items(server, token, "/certification/requests", params={"state": state}),
        as_json=as_json,
        row=_request_row,
        columns=("request", "connector", "environment", "revision", "state", "submitted by"),
        empty="No requests.",
    )


def _request_row(item: dict[str, Any]) -> tuple[str, ...]:
    return (
        item["id"],
        escape(item["connector"]),
        escape(item["environment"]),
        str(item["revision"]),
        item["state"],
        escape(item["submitted_by"] or ""),
    )


@app.command("review")
@friendly
def review(
    request: Annotated[str, typer.Argument(help="The request id (see 'tether certify queue').")],
    approve: Annotated[bool, typer.Option("--approve", help="Approve: publish it to the catalog.")] = False,
    reject: Annotated[bool, typer.Option("--reject", help="Reject it (needs --comment).")] = False,
    comment: Annotated[
        str | None, typer.Option("--comment", "-m", help="What the owner should know.")
    ] = None,
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Comment on, approve or reject a request (certifiers; not your own)."""
    if approve and reject:
        raise typer.BadParameter("give --approve or --reject, not both")
    verdict = "approve" if approve else "reject" if reject else "comment"
    with client_for(server, token) as client:
        body = {"verdict": verdict, "comment": comment}
        result = client.json("POST", f"/certification/requests/{request}/reviews", json=body)
    if as_json:
        print_json(result)
        return
    where = f"; in the catalog as {result['catalog_entry']}" if verdict == "approve" else ""
    out.print(f"Request {request} is {result['state']}{where}.")


@app.command("grant")
@friendly
def grant(
    username: Annotated[str, typer.Argument(help="Who becomes a certifier.")],
    revoke: Annotated[bool, typer.Option("--revoke", help="Withdraw the role instead.")] = False,
    server: ServerOption = None,
    token: TokenOption = None,
) -> None:
    """Grant (or --revoke) the certifier role (platform admins)."""
    with client_for(server, token) as client:
        client.json("DELETE" if revoke else "PUT", f"/certifiers/{username}")
    out.print(f"{escape(username)} is {'no longer ' if revoke else ''}a certifier.")
