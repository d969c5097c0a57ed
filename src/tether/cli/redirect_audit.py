"""``tether admin redirect-audit``: run the shipped redirect-URI audit flow and print its table.

Everything happens through the API as the signed-in admin, as they would do it by hand: make (or
reuse) their Tether for Admins connection and their Mail (SMTP) connection, create or refresh the
flow from the ``redirect-uri-audit`` template (``--per-creator``: the variant that emails each
creator their own connectors), run it with the recipient, wait for the run, and print the HTML
table the flow built (and emailed) as a text table.
"""

from __future__ import annotations

import time
from html.parser import HTMLParser
from typing import Annotated, Any

import typer
from rich.markup import escape

from tether.cli._client import ApiClient
from tether.cli._context import EnvOption, ServerOption, TokenOption, client_for
from tether.cli._output import EXIT_FINDINGS, JsonOption, friendly, out, print_items, print_json
from tether.errors import InputError, NotFound

__all__ = ["redirect_audit"]

_FINAL = {"Succeeded", "Failed", "Cancelled", "TimedOut"}
TABLE_ACTION = "Create_HTML_table"


class _TableText(HTMLParser):
    """The cells of the flow's HTML table (the Table action's HTML, escaped cell text)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self.rows:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def table_rows(html: str) -> list[list[str]]:
    """The rows (header first) of an HTML table."""
    parser = _TableText()
    parser.feed(html)
    return parser.rows


def _mine(client: ApiClient, env: str, connector: str, username: str) -> dict[str, Any] | None:
    items = client.json("GET", f"/environments/{env}/connections")["items"]
    found = [c for c in items if c["connector"] == connector and c["owner"] == username]
    return found[0] if found else None


def _admin_connection(client: ApiClient, env: str, username: str) -> str:
    found = _mine(client, env, "tether-admins", username)
    if found is not None:
        return str(found["id"])
    payload = {"connector": "tether-admins", "display_name": "Tether for Admins", "parameters": {}}
    return str(client.json("POST", f"/environments/{env}/connections", json=payload)["id"])


def _mail_connection(client: ApiClient, env: str, username: str, smtp: dict[str, Any]) -> str:
    found = _mine(client, env, "mail-smtp", username)
    if smtp.get("host") is None:
        if found is None:
            raise InputError(
                f"No Mail (SMTP) connection of yours in environment {env!r}: pass --smtp-host "
                "(and --smtp-port, --smtp-tls, --smtp-from) or set TETHER_SMTP_HOST."
            )
        return str(found["id"])
    values = {k: v for k, v in smtp.items() if v is not None}
    if found is not None:
        client.json("PATCH", f"/environments/{env}/connections/{found['id']}", json={"parameters": values})
        return str(found["id"])
    payload = {"connector": "mail-smtp", "display_name": "Mail (SMTP)", "parameters": values}
    return str(client.json("POST", f"/environments/{env}/connections", json=payload)["id"])


def _flow(client: ApiClient, env: str, template: dict[str, Any], connections: dict[str, str]) -> str:
    name = str(template["name"])
    try:
        client.json("GET", f"/environments/{env}/flows/{name}")
    except NotFound:
        payload = {"name": name, "definition": template["definition"], "connections": connections}
        client.json("POST", f"/environments/{env}/flows", json=payload)
        return name
    update = {"definition": template["definition"], "connections": connections}
    client.json("PATCH", f"/environments/{env}/flows/{name}", json=update)
    return name


@friendly
def redirect_audit(
    email: Annotated[
        str | None, typer.Option("--email", help="Who receives the table; default: your account's email.")
    ] = None,
    per_creator: Annotated[
        bool, typer.Option("--per-creator", help="Email each creator only their connectors (you in copy).")
    ] = False,
    all_environments: Annotated[
        bool, typer.Option("--all-environments", help="Audit every environment (platform admins).")
    ] = False,
    smtp_host: Annotated[
        str | None, typer.Option(envvar="TETHER_SMTP_HOST", help="SMTP server host.")
    ] = None,
    smtp_port: Annotated[int, typer.Option(envvar="TETHER_SMTP_PORT", help="SMTP port.")] = 587,
    smtp_tls: Annotated[
        str, typer.Option(envvar="TETHER_SMTP_TLS", help="none, starttls or tls (implicit).")
    ] = "starttls",
    smtp_from: Annotated[str | None, typer.Option(envvar="TETHER_SMTP_FROM", help="Sender address.")] = None,
    smtp_username: Annotated[
        str | None, typer.Option(envvar="TETHER_SMTP_USERNAME", help="SMTP user.")
    ] = None,
    smtp_password: Annotated[
        str | None, typer.Option(envvar="TETHER_SMTP_PASSWORD", help="SMTP password (prefer the env var).")
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the run.")] = 300.0,
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Find the custom connectors still on the global OAuth redirect URI (runs the shipped flow).

    The flow emails the table (the Mail connection is made from --smtp-* or TETHER_SMTP_*); the
    command prints it.
    """
    smtp = {
        "host": smtp_host,
        "port": smtp_port,
        "tlsMode": smtp_tls,
        "from": smtp_from,
        "username": smtp_username,
        "password": smtp_password,
    }
    if smtp_host is not None and not smtp_from:
        raise InputError("--smtp-from (or TETHER_SMTP_FROM) is needed with --smtp-host: the sender address.")
    with client_for(server, token) as client:
        me = client.json("GET", "/me")
        recipient = email or me.get("email")
        if not recipient:
            raise InputError("Your account has no email address: pass --email ADDRESS.")
        connections = {
            "admins": _admin_connection(client, env, me["username"]),
            "mail": _mail_connection(client, env, me["username"], smtp),
        }
        name = "redirect-uri-audit-per-creator" if per_creator else "redirect-uri-audit"
        flow = _flow(client, env, client.json("GET", f"/flow-templates/{name}"), connections)
        body = {"email": recipient, "environment": "*" if all_environments else env}
        run = client.json("POST", f"/environments/{env}/flows/{flow}/runs", json={"body": body})
        deadline = time.monotonic() + timeout
        detail = client.json("GET", f"/environments/{env}/flows/{flow}/runs/{run['id']}")
        while detail["run"]["status"] not in _FINAL and time.monotonic() < deadline:
            time.sleep(0.2)
            detail = client.json("GET", f"/environments/{env}/flows/{flow}/runs/{run['id']}")
    _report(detail, recipient, per_creator, as_json)


def _report(detail: dict[str, Any], recipient: str, per_creator: bool, as_json: bool) -> None:
    run = detail["run"]
    table = next((a for a in detail["actions"] if a["name"] == TABLE_ACTION), None)
    html = (table or {}).get("outputs", {}) or {}
    rows = table_rows(str(html.get("body", ""))) if isinstance(html, dict) else []
    header, body = (rows[0], rows[1:]) if rows else ([], [])
    if as_json:
        print_json(
            {
                "run": run["id"],
                "status": run["status"],
                "connectors": [dict(zip(header, r, strict=False)) for r in body],
            }
        )
    else:
        print_items(
            [dict(zip(header, r, strict=False)) for r in body],
            as_json=False,
            row=lambda item: tuple(escape(item.get(h, "")) for h in header),
            columns=header,
            empty="No custom connector uses the global OAuth redirect URI.",
        )
        if run["status"] == "Succeeded":
            out.print("Emailed to each creator." if per_creator else f"Emailed to {escape(recipient)}.")
    if run["status"] != "Succeeded":
        error = run.get("error") or {}
        failed = [a for a in detail["actions"] if a["status"] == "Failed"]
        reason = (failed[-1].get("error") or {}).get("message") if failed else error.get("message")
        out.print(
            f"[red]The audit run {run['id']} ended {run['status']}[/red]: {escape(str(reason or error))}"
        )
        raise typer.Exit(EXIT_FINDINGS)
