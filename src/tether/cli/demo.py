"""``tether demo``: the tutorial a newcomer runs first, end to end on one machine.

It starts the embedded server (SQLite, nothing else to install) and the example sentiment
service, both on free loopback ports; imports the example connector pointed at that service;
allows loopback in the default environment's network policy (Tether refuses private addresses
unless told, and the service is on 127.0.0.1); creates a connection with the service's API key;
and scores a few texts through the real invoke endpoint over HTTP. Each step prints the
equivalent ``tether`` command. No internet, no other servers.
"""

from __future__ import annotations

import json
import secrets
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from tether.cli._client import ApiClient
from tether.cli._output import out
from tether.cli.serve import open_database
from tether.config import load_settings
from tether.definition import DEFINITION_FILE, SETTINGS_FILE, load_package, package_from_files

__all__ = ["DEMO_TEXTS", "EXAMPLE_CONNECTOR", "demo"]

EXAMPLE_CONNECTOR = Path(__file__).resolve().parents[1] / "examples" / "sentiment"
DEMO_TEXTS = (
    "I love this product: it works wonderfully and the support team was fantastic!",
    "This is terrible. It broke after a day and I hate dealing with their awful support.",
    "The package arrived on Tuesday.",
)
ENV = "/environments/default"


def demo(
    home: Annotated[
        Path | None, typer.Option(help="Keep the demo's database here (default: a new temporary folder).")
    ] = None,
    keep_serving: Annotated[
        bool,
        typer.Option("--keep-serving", help="Leave the servers running after the tour (Ctrl-C stops them)."),
    ] = False,
) -> None:
    """Start Tether and a sample API, connect them, and call the API through a connector."""
    from tether.api import create_app, serve_in_thread

    started = time.monotonic()
    home = home or Path(tempfile.mkdtemp(prefix="tether-demo-"))
    password = secrets.token_urlsafe(12)
    api_key = secrets.token_urlsafe(24)
    settings = load_settings(home=home, admin_password=password)
    database = open_database(settings)
    try:
        with _sentiment_service(api_key) as service, serve_in_thread(create_app(settings, database)) as url:
            _step(f"Tether is running at {url} (API docs: {url}/docs), data in {home}")
            _step(f"The example sentiment service is running at {service} (VADER, on this machine)")
            with ApiClient(url, None) as anonymous:
                _command(f"tether login --server {url} --username admin")
                token = anonymous.json("POST", "/tokens", json={"name": "demo"}, auth=("admin", password))
            with ApiClient(url, token["token"]) as client:
                connection = _tour(client, service, api_key)
                if keep_serving:
                    out.print(
                        f"\nServers still running: Tether at {url} (user admin, password {password}), "
                        f"the sentiment service at {service}. Press Ctrl-C to stop."
                    )
                    _next_steps(url, connection, serving=True)
                    _wait_forever()
    finally:
        database.close()
    if not keep_serving:
        _next_steps(url, connection, serving=False)
    out.print(f"\n[dim]Demo finished in {time.monotonic() - started:.1f} s.[/]")


@contextmanager
def _sentiment_service(api_key: str) -> Iterator[str]:
    from tether.api import serve_in_thread
    from tether.examples.sentiment.service import create_service

    with serve_in_thread(create_service(api_key)) as url:  # type: ignore[arg-type]  # any ASGI app
        yield url


def _tour(client: ApiClient, service: str, api_key: str) -> str:
    host = service.removeprefix("http://")
    package = load_package(EXAMPLE_CONNECTOR)
    files = {k: v for k, v in package.files.items() if k != SETTINGS_FILE}
    definition = json.loads(files[DEFINITION_FILE])
    written, definition["host"] = definition["host"], host
    files[DEFINITION_FILE] = json.dumps(definition, indent=2).encode()
    archive = package_from_files(files, source="sentiment").to_zip()

    _command(f"tether connector create {EXAMPLE_CONNECTOR}")
    out.print(f"  (the definition says host {written}; the demo sets it to the service's address, {host})")
    created = client.json(
        "POST", f"{ENV}/connectors", files={"package": ("sentiment.zip", archive, "application/zip")}
    )
    out.print(f"  created [bold]{escape(created['display_name'])}[/] ({created['name']}, id {created['id']})")

    _command('PUT /api/v1/environments/default/settings {"network_allow": ["127.0.0.1"]}')
    out.print(
        "  Tether refuses loopback and private addresses by default, so a connector cannot be turned\n"
        "  against the server's own machine or network. The service runs on 127.0.0.1, so the demo\n"
        "  allows that one address in the default environment (an environment admin's decision)."
    )
    client.json("PUT", f"{ENV}/settings", json={"network_allow": ["127.0.0.1"]})

    _command(f"tether connection create {created['name']} --param api_key=***")
    connection = client.json(
        "POST", f"{ENV}/connections", json={"connector": created["id"], "parameters": {"api_key": api_key}}
    )
    out.print(f"  connection {connection['id']} is {connection['status']} (the key is stored encrypted)")

    documents = [{"id": str(n), "language": "en", "text": text} for n, text in enumerate(DEMO_TEXTS, 1)]
    _command(f"tether invoke {connection['id']} Sentiment --body '{{\"documents\": [...]}}'")
    answer = client.json(
        "POST",
        f"{ENV}/connections/{connection['id']}/invoke/Sentiment",
        json={"body": {"documents": documents}},
    )
    scores = {d["id"]: d["score"] for d in answer["body"]["documents"]}
    table = Table("score", "text", title=f"Sentiment (HTTP {answer['status']}; 0 negative … 1 positive)")
    for document in documents:
        table.add_row(f"{scores[document['id']]:.3f}", escape(document["text"]))
    out.print(table)
    for warning in answer["warnings"]:
        out.print(f"  [yellow]warning:[/] {escape(warning)}")
    return str(connection["id"])


def _next_steps(url: str, connection: str, *, serving: bool) -> None:
    where = (
        f"against this demo's server ({url}):"
        if serving
        else "with your own server (the demo's has stopped; run 'tether demo --keep-serving' to keep it):"
    )
    server = url if serving else "http://127.0.0.1:8000"
    out.print(
        f"\n[bold]Next[/], {where}\n"
        "  tether serve                                   # your own server, data in ~/.tether\n"
        f"  tether login --server {server} --username admin\n"
        "  tether connection list\n"
        f"  tether invoke {connection if serving else 'CONNECTION_ID'} Sentiment "
        '--body \'{"documents": [{"id": "1", "text": "What a great day"}]}\'\n'
        "  tether connector create ./MyConnector          # your own API, in paconn's layout\n"
        "  tether flow create flow.json --name my-flow --connection sentiment=CONNECTION_ID\n"
        "  tether validate PATH --json                    # lint any connector folder offline"
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


def scores_of(output: str) -> list[float]:
    """The scores a demo printed, in order (for tests and scripts reading the tour's output)."""
    values: list[float] = []
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.strip("│| ").split("│")]
        if cells and _is_score(cells[0]):
            values.append(float(cells[0]))
    return values


def _is_score(text: Any) -> bool:
    return isinstance(text, str) and len(text) == 5 and text[1] == "." and text.replace(".", "").isdigit()
