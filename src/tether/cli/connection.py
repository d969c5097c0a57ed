"""``tether connection …``: create, list, show, test, update and delete connections on a server.

``create`` asks for each parameter of the connector's form (secure strings with hidden input) unless
given with ``--param name=value``; for OAuth it prints the consent URL and waits, polling the
connection, until the user has signed in (or it failed, or ``--timeout`` passed). Secret values are
never printed: the server only ever says which parameters are set.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer
from rich.markup import escape

from tether.cli._client import ApiClient
from tether.cli._context import EnvOption, IfMatchOption, ServerOption, TokenOption, client_for, fetch_items
from tether.cli._output import JsonOption, err, friendly, out, print_items, print_json
from tether.cli.sharing import add_sharing_commands
from tether.errors import InputError, TetherError

__all__ = ["app"]

app = typer.Typer(
    help="Create, list, show, test, update, share and delete connections.", no_args_is_help=True
)
add_sharing_commands(app, collection="connections", noun="connection", permissions=("use",))

ParamOption = Annotated[
    list[str] | None, typer.Option("--param", "-P", help="A parameter value, name=value (repeatable).")
]
ConnectionArgument = Annotated[str, typer.Argument(help="Connection id.")]
SignInTimeoutOption = Annotated[float, typer.Option(help="Seconds to wait for the OAuth sign-in.")]
POLL_SECONDS = 1.0


def _params(pairs: list[str] | None) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise InputError(f"--param expects name=value, got {name or pair!r}")
        values[name.strip()] = value
    return values


def _ask(form_set: dict[str, Any], given: dict[str, str]) -> dict[str, str]:
    """Prompt for every fillable field not given (hidden input for secure strings)."""
    values = dict(given)
    for field in form_set["fields"]:
        if field["kind"] == "oauthSetting" or field["name"] in values or field["hidden"]:
            continue
        label = field["label"] + ("" if field["required"] else " (optional)")
        if field["allowed_values"]:
            label += f" [{', '.join(value for _text, value in field['allowed_values'])}]"
        answer = typer.prompt(
            label, default="" if not field["required"] else None, hide_input=field["secret"]
        )
        if answer != "":
            values[field["name"]] = answer
    return values


@app.command()
@friendly
def create(
    connector: Annotated[str, typer.Argument(help="Connector id or name.")],
    env: EnvOption = "default",
    param: ParamOption = None,
    parameter_set: Annotated[
        str | None, typer.Option("--set", help="Multi-auth: which way to connect.")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Display name of the connection.")] = None,
    no_input: Annotated[bool, typer.Option("--no-input", help="Never prompt; use --param only.")] = False,
    wait: Annotated[bool, typer.Option(help="For OAuth, wait until the sign-in is done.")] = True,
    timeout: SignInTimeoutOption = 600.0,
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a connection; for OAuth, open the printed URL in a browser and sign in."""
    values = _params(param)
    with client_for(server, token) as client:
        if not no_input and not as_json:
            form = client.json("GET", f"/environments/{env}/connectors/{connector}/connection-form")
            chosen = _choose(form["sets"], parameter_set)
            parameter_set = chosen["name"]
            values = _ask(chosen, values)
        values = _sealed_for_gateway(client, env, connector, parameter_set, values)
        body = {
            "connector": connector,
            "parameters": values,
            "parameter_set": parameter_set,
            "display_name": name,
        }
        created = client.json("POST", f"/environments/{env}/connections", json=body)
        if _announce_sign_in(created) and wait:
            created = _wait(client, env, created["id"], timeout)
    _report(created, as_json=as_json)
    if created["status"] == "error":
        raise typer.Exit(1)


def _sealed_for_gateway(
    client: ApiClient, env: str, connector: str, parameter_set: str | None, values: dict[str, Any]
) -> dict[str, Any]:
    """Through an on-premises gateway, secret values leave this machine sealed to the gateway's key.

    The server then stores and relays what it cannot read (only the gateway's agents can): the
    property the API path cannot give a client that sends plaintext.
    """
    form = client.json("GET", f"/environments/{env}/connectors/{connector}/connection-form")
    chosen = next(
        (s for s in form["sets"] if s["name"] == parameter_set), form["sets"][0] if form["sets"] else None
    )
    fields = chosen["fields"] if chosen else []
    gateway = next(
        (values.get(f["name"]) for f in fields if f["kind"] == "gatewaySetting" and values.get(f["name"])),
        None,
    )
    if not gateway:
        return values
    from tether.secrets import is_sealed, seal

    public_key = client.json("GET", f"/environments/{env}/gateways/{gateway}")["public_key"]
    if not public_key:
        raise InputError(f"gateway {gateway!r} has no registered agent yet: register one first")
    return {
        name: seal(public_key, str(value).encode())
        if name in _secret(fields) and not is_sealed(value)
        else value
        for name, value in values.items()
    }


def _secret(fields: list[dict[str, Any]]) -> set[str]:
    return {f["name"] for f in fields if f.get("secret")}


def _announce_sign_in(connection: dict[str, Any]) -> bool:
    """If the server asks for an OAuth sign-in, say where (on stderr) and return True."""
    if not connection.get("consent_url"):
        return False
    err.print(f"Open this URL in a browser and sign in:\n  {connection['consent_url']}")
    return True


def _choose(sets: list[dict[str, Any]], wanted: str | None) -> dict[str, Any]:
    if wanted is not None or len(sets) == 1:
        return next((s for s in sets if s["name"] == wanted), sets[0])
    for number, entry in enumerate(sets, start=1):
        err.print(f"  {number}. {escape(entry['label'])} ({escape(str(entry['name']))})")
    index: int = typer.prompt("Way to connect", type=int, default=1)
    if not 1 <= index <= len(sets):
        raise InputError(f"choose a number from 1 to {len(sets)}")
    return sets[index - 1]


def _wait(client: ApiClient, env: str, connection_id: str, timeout: float) -> dict[str, Any]:
    """Poll until the connection leaves ``needs-consent`` (bounded by ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        current: dict[str, Any] = client.json("GET", f"/environments/{env}/connections/{connection_id}")
        if current["status"] != "needs-consent":
            return current
        if time.monotonic() >= deadline:
            raise TetherError(
                f"the sign-in did not finish within {timeout:g} s; connection {connection_id} still waits "
                "for it (see 'tether connection show')"
            )
        time.sleep(POLL_SECONDS)


@app.command("list")
@friendly
def list_(
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """List your connections (environment admins: everyone's)."""
    print_items(
        fetch_items(server, token, f"/environments/{env}/connections"),
        as_json=as_json,
        columns=("id", "name", "connector", "owner", "status", "reason"),
        row=lambda c: (
            c["id"],
            c["display_name"],
            c["connector"],
            c["owner"],
            c["status"],
            escape(c.get("status_reason") or ""),
        ),
        empty=f"No connections in environment {escape(env)}.",
    )


@app.command()
@friendly
def show(
    connection: ConnectionArgument,
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show a connection: its status and which parameters are set (never their values)."""
    with client_for(server, token) as client:
        found = client.json("GET", f"/environments/{env}/connections/{connection}")
    _report(found, as_json=as_json)


@app.command()
@friendly
def test(
    connection: ConnectionArgument,
    env: EnvOption = "default",
    operation: Annotated[str | None, typer.Option(help="A GET operationId to call.")] = None,
    path: Annotated[str | None, typer.Option(help="A path to GET under the API's base URL.")] = None,
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Call the API once with the connection's credentials (the connector's test operation by default)."""
    with client_for(server, token) as client:
        result = client.json(
            "POST",
            f"/environments/{env}/connections/{connection}/test",
            json={"operation": operation, "path": path},
        )
    if as_json:
        print_json(result)
    else:
        out.print(
            f"{'ok' if result['ok'] else 'failed'}: {escape(result['message'])} (GET {escape(result['url'])})"
        )
    if not result["ok"]:
        raise typer.Exit(1)


@app.command()
@friendly
def update(
    connection: ConnectionArgument,
    env: EnvOption = "default",
    param: ParamOption = None,
    name: Annotated[str | None, typer.Option(help="New display name.")] = None,
    reconsent: Annotated[bool, typer.Option("--reconsent", help="Sign in at the provider again.")] = False,
    wait: Annotated[bool, typer.Option(help="With --reconsent, wait until the sign-in is done.")] = True,
    timeout: SignInTimeoutOption = 600.0,
    if_match: IfMatchOption = None,
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change a connection's name or parameter values, or sign in again."""
    body = {"parameters": _params(param) or None, "display_name": name, "reconsent": reconsent}
    with client_for(server, token) as client:
        path = f"/environments/{env}/connections/{connection}"
        updated = client.json("PATCH", path, json=body, headers=client.if_match(path, if_match))
        if _announce_sign_in(updated) and wait:
            updated = _wait_for_new_tokens(client, env, connection, updated, timeout)
    _report(updated, as_json=as_json)


def _wait_for_new_tokens(
    client: ApiClient, env: str, connection: str, before: dict[str, Any], timeout: float
) -> dict[str, Any]:
    if before["status"] == "needs-consent":
        return _wait(client, env, connection, timeout)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current: dict[str, Any] = client.json("GET", f"/environments/{env}/connections/{connection}")
        if current["updated_at"] != before["updated_at"]:
            return current
        time.sleep(POLL_SECONDS)
    raise TetherError(f"the sign-in did not finish within {timeout:g} s")


@app.command()
@friendly
def delete(
    connection: ConnectionArgument,
    env: EnvOption = "default",
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    server: ServerOption = None,
    token: TokenOption = None,
) -> None:
    """Delete a connection."""
    if not yes:
        typer.confirm(f"Delete connection {connection}?", abort=True)
    with client_for(server, token) as client:
        client.request("DELETE", f"/environments/{env}/connections/{connection}")
    out.print(f"Deleted connection {escape(connection)}.")


def _report(connection: dict[str, Any], *, as_json: bool) -> None:
    if as_json:
        print_json(connection)
        return
    out.print(
        f"Connection {escape(connection['display_name'])} ({connection['id']}): {connection['status']}"
        + (f" — {escape(connection['status_reason'])}" if connection.get("status_reason") else "")
    )
    if connection.get("fix") and (connection.get("fix") not in (connection.get("status_reason") or "")):
        out.print(f"  to fix: {escape(connection['fix'])}")
    out.print(f"  connector: {escape(connection['connector'])}  owner: {escape(connection['owner'])}")
    set_names = ", ".join(connection["parameters"]) or "none"
    out.print(f"  parameters set: {escape(set_names)}")
