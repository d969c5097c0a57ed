"""``tether demo``: the guided tour a newcomer runs first.

It starts the embedded server (SQLite, nothing else to install), logs in, uploads the
example connector, lists it, validates it and downloads it back — over real HTTP, through
the same API the CLI uses — printing the equivalent ``tether`` command before each step,
then says how to carry on.
"""

from __future__ import annotations

import secrets
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from tether.cli._client import ApiClient
from tether.cli._output import out
from tether.cli.serve import open_database
from tether.config import load_settings
from tether.definition import SETTINGS_FILE, load_package, package_from_files

__all__ = ["EXAMPLE_CONNECTOR", "demo"]

EXAMPLE_CONNECTOR = Path(__file__).resolve().parents[1] / "examples" / "sentiment"


def demo(
    home: Annotated[
        Path | None, typer.Option(help="Keep the demo's database here (default: a new temporary folder).")
    ] = None,
    keep_serving: Annotated[
        bool,
        typer.Option("--keep-serving", help="Leave the server running after the tour (Ctrl-C stops it)."),
    ] = False,
) -> None:
    """Start a server, load the example connector, and show how to list, validate and download it."""
    from tether.api import create_app, serve_in_thread

    started = time.monotonic()
    home = home or Path(tempfile.mkdtemp(prefix="tether-demo-"))
    password = secrets.token_urlsafe(12)
    settings = load_settings(home=home, admin_password=password)
    database = open_database(settings)
    try:
        with serve_in_thread(create_app(settings, database)) as url:
            _step(f"Tether is running at {url} (API docs: {url}/docs), data in {home}")
            with ApiClient(url, None) as anonymous:
                _command(f"tether login --server {url} --username admin")
                token = anonymous.json("POST", "/tokens", json={"name": "demo"}, auth=("admin", password))[
                    "token"
                ]
            with ApiClient(url, token) as client:
                _tour(client)
                if keep_serving:
                    out.print(
                        f"\nServer still running at {url}; log in with user admin, password "
                        f"{password}. Press Ctrl-C to stop."
                    )
                    _wait_forever()
    finally:
        database.close()
    _next_steps(home)
    out.print(f"\n[dim]Demo finished in {time.monotonic() - started:.1f} s.[/]")


def _tour(client: ApiClient) -> None:
    package = load_package(EXAMPLE_CONNECTOR)
    files = {k: v for k, v in package.files.items() if k != SETTINGS_FILE}
    archive = package_from_files(files, source="sentiment").to_zip()

    _command(f"tether connector create {EXAMPLE_CONNECTOR}")
    created = client.json(
        "POST",
        "/environments/default/connectors",
        files={"package": ("sentiment.zip", archive, "application/zip")},
    )
    out.print(
        f"  created [bold]{escape(created['display_name'])}[/] with id {created['id']} "
        f"({len(created['findings'])} lint finding(s))"
    )

    _command("tether connector list")
    table = Table("id", "name", "display name", "revision")
    for c in client.json("GET", "/environments/default/connectors")["items"]:
        table.add_row(c["id"], c["name"], c["display_name"], str(c["current_revision"]))
    out.print(table)

    _command(f"tether connector validate {EXAMPLE_CONNECTOR} --profile certification")
    result = client.json(
        "POST",
        "/environments/default/connectors/validate",
        files={"package": ("sentiment.zip", archive, "application/zip")},
        data={"profile": "certification"},
    )
    for finding in result["findings"] or [{"severity": "ok", "rule": "-", "message": "no findings"}]:
        out.print(f"  {finding['severity']}: {escape(finding['message'])}")

    _command(f"tether connector download --cid {created['id']} --dest ./downloaded")
    downloaded = client.request("GET", f"/environments/default/connectors/{created['id']}/download").content
    out.print(f"  {len(downloaded)} bytes (a zip in paconn's layout)")


def _next_steps(home: Path) -> None:
    out.print(
        "\n[bold]Next[/] (the demo's server has stopped; its data stayed in "
        f"{escape(str(home))}):\n"
        "  tether serve                         # your own server, data in ~/.tether\n"
        "  tether login --username admin        # password: ~/.tether/initial-admin-password\n"
        "  tether connector create ./MyConnector\n"
        "  tether connector list\n"
        "  tether validate PATH --json          # lint any connector folder or OpenAPI file offline\n"
        "  tether demo --keep-serving           # this tour, leaving its server running"
    )


def _step(text: str) -> None:
    out.print(f"\n[bold green]▶[/] {escape(text)}")


def _command(text: str) -> None:
    out.print(f"\n[bold cyan]$[/] {escape(text)}")


def _wait_forever() -> None:
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
