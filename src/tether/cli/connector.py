"""``tether connector …``: paconn-compatible commands for connectors on a server.

Flags follow paconn (``--api-def/-d``, ``--api-prop/-p``, ``--icon/-i``, ``--script/-x``,
``--settings/-s``, ``--env/-e``, ``--cid/-c``, ``--dest``) and ``settings.json`` is read
and written as paconn does, so existing scripts keep working with ``tether`` in place of
``paconn``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from tether.cli._context import EnvOption, IfMatchOption, ServerOption, TokenOption, client_for, fetch_items
from tether.cli._output import EXIT_FINDINGS, JsonOption, friendly, out, print_items, print_json
from tether.cli.sharing import add_sharing_commands
from tether.definition import (
    DEFINITION_FILE,
    ICON_FILE,
    PROPERTIES_FILE,
    SCRIPT_FILE,
    SETTINGS_FILE,
    ConnectorPackage,
    load_package,
    package_from_files,
    package_from_zip,
    paconn_settings,
    save_package,
)
from tether.errors import InputError

__all__ = ["app"]

app = typer.Typer(
    help="Create, update, download, validate, list, share and delete connectors on a Tether server.",
    no_args_is_help=True,
)
add_sharing_commands(app, collection="connectors", noun="connector", permissions=("edit", "use"))

ApiDefOption = Annotated[
    Path | None, typer.Option("--api-def", "-d", help="API definition (OpenAPI JSON/YAML).")
]
ApiPropOption = Annotated[Path | None, typer.Option("--api-prop", "-p", help="apiProperties.json.")]
IconOption = Annotated[Path | None, typer.Option("--icon", "-i", help="Icon (PNG).")]
ScriptOption = Annotated[Path | None, typer.Option("--script", "-x", help="Custom code (script.py).")]
SettingsOption = Annotated[
    Path | None,
    typer.Option("--settings", "-s", help="paconn settings.json naming the files, environment and id."),
]
CidOption = Annotated[str | None, typer.Option("--cid", "-c", help="Connector id (or name).")]
ClientIdOption = Annotated[
    str | None, typer.Option("--client-id", help="Your OAuth app's client id (replaces a placeholder).")
]
ClientSecretOption = Annotated[
    str | None, typer.Option("--client-secret", help="Your OAuth app's client secret (like paconn --secret).")
]
PathArgument = Annotated[
    Path | None, typer.Argument(help="A connector folder, zip or definition file (instead of -d/-p/…).")
]


@app.command()
@friendly
def create(
    path: PathArgument = None,
    api_def: ApiDefOption = None,
    api_prop: ApiPropOption = None,
    icon: IconOption = None,
    script: ScriptOption = None,
    settings: SettingsOption = None,
    env: EnvOption = "default",
    name: Annotated[str | None, typer.Option(help="Connector name (default: from the title).")] = None,
    client_id: ClientIdOption = None,
    client_secret: ClientSecretOption = None,
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Upload a new connector. Prints its id; with --settings, writes the id into settings.json."""
    package = _local_package(path, api_def, api_prop, icon, script, settings)
    env = _settings_value(settings, "environment") or env
    data = {"name": name} if name else {}
    data.update(_oauth_client(client_id, client_secret))
    with client_for(server, token) as client:
        connector = client.json("POST", f"/environments/{env}/connectors", files=_upload(package), data=data)
    if settings is not None:
        _update_settings(settings, connectorId=connector["id"], environment=connector["environment"])
    _report_saved(connector, as_json=as_json, verb="created")


@app.command()
@friendly
def update(
    path: PathArgument = None,
    api_def: ApiDefOption = None,
    api_prop: ApiPropOption = None,
    icon: IconOption = None,
    script: ScriptOption = None,
    settings: SettingsOption = None,
    env: EnvOption = "default",
    cid: CidOption = None,
    note: Annotated[str | None, typer.Option(help="A note stored with the new revision.")] = None,
    redirect_mode: Annotated[
        str | None,
        typer.Option(help="Switch the OAuth redirect mode (GlobalPerConnector gives a unique redirect URL)."),
    ] = None,
    client_id: ClientIdOption = None,
    client_secret: ClientSecretOption = None,
    if_match: IfMatchOption = None,
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Upload a new revision of an existing connector (every update is kept and can be rolled back)."""
    env = _settings_value(settings, "environment") or env
    cid = _require_cid(cid or _settings_value(settings, "connectorId"))
    with client_for(server, token) as client:
        if path is not None or api_def is not None or settings is not None or redirect_mode is None:
            package = _local_package(path, api_def, api_prop, icon, script, settings)
            resource = f"/environments/{env}/connectors/{cid}"
            connector = client.json(
                "PUT",
                resource,
                files=_upload(package),
                data={"note": note or "", **_oauth_client(client_id, client_secret)},
                headers=client.if_match(resource, if_match),
            )
            if redirect_mode is None:
                _report_saved(connector, as_json=as_json, verb="updated")
                return
        switch = client.json(
            "PUT",
            f"/environments/{env}/connectors/{cid}/redirect-mode",
            json={"redirect_mode": redirect_mode},
        )
    if as_json:
        print_json(switch)
        return
    out.print(
        f"Connector {escape(switch['connector'])} now uses redirect mode {switch['redirect_mode']} "
        f"(revision {switch['revision']}).\n  redirect URL: {switch['redirect_url']}"
    )
    for number, step in enumerate(switch["steps"], start=1):
        out.print(f"  {number}. {escape(step)}")


@app.command()
@friendly
def download(
    cid: CidOption = None,
    env: EnvOption = "default",
    dest: Annotated[
        Path, typer.Option("--dest", help="Folder to download into (a sub-folder per connector).")
    ] = Path(),
    revision: Annotated[int | None, typer.Option(help="Revision number (default: the current one).")] = None,
    server: ServerOption = None,
    token: TokenOption = None,
) -> None:
    """Download a connector's files (and a paconn settings.json) into DEST/<connector id>/."""
    cid = _require_cid(cid)
    params = {"revision": revision} if revision is not None else {}
    with client_for(server, token) as client:
        connector = client.json("GET", f"/environments/{env}/connectors/{cid}")
        archive = client.request(
            "GET", f"/environments/{env}/connectors/{connector['id']}/download", params=params
        ).content
    package = package_from_zip(archive, source=f"{cid}.zip")
    folder = dest / connector["id"]
    files = {k: v for k, v in package.files.items() if k != SETTINGS_FILE}
    save_package(
        package_from_files(files, source=str(folder)),
        folder,
        settings=paconn_settings(
            connector_id=connector["id"], environment=connector["environment"], files=files
        ),
    )
    out.print(
        f"Downloaded {escape(connector['display_name'])} (revision "
        f"{revision or connector['current_revision']}) to {escape(str(folder))}"
    )


@app.command("validate")
@friendly
def validate_remote(
    path: PathArgument = None,
    api_def: ApiDefOption = None,
    api_prop: ApiPropOption = None,
    settings: SettingsOption = None,
    env: EnvOption = "default",
    profile: Annotated[str, typer.Option(help="'custom' or 'certification'.")] = "custom",
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Validate a package on the server (as paconn validate does). 'tether validate' works offline."""
    package = _local_package(path, api_def, api_prop, None, None, settings)
    with client_for(server, token) as client:
        result = client.json(
            "POST",
            f"/environments/{env}/connectors/validate",
            files=_upload(package),
            data={"profile": profile},
        )
    if as_json:
        print_json(result)
    else:
        for f in result["findings"]:
            out.print(
                f"{escape(f['file'])}:{f.get('line') or '?'}: {f['severity']} {f['rule']} "
                f"{escape(f['message'])}"
            )
        out.print(f"{len(result['findings'])} finding(s)")
    if any(f["severity"] == "error" for f in result["findings"]):
        raise typer.Exit(EXIT_FINDINGS)


@app.command("list")
@friendly
def list_(
    builtin: Annotated[
        bool, typer.Option("--builtin", help="Also list the connectors that ship with Tether.")
    ] = False,
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the connectors of an environment."""
    params = {"builtin": "true"} if builtin else None
    print_items(
        fetch_items(server, token, f"/environments/{env}/connectors", params=params),
        as_json=as_json,
        columns=("id", "name", "display name", "revision", "updated"),
        row=lambda c: (c["id"], c["name"], c["display_name"], str(c["current_revision"]), c["updated_at"]),
        empty=f"No connectors in environment {escape(env)} yet; add one with 'tether connector create PATH'.",
    )


@app.command()
@friendly
def revisions(
    cid: CidOption = None,
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """List a connector's revisions (newest last)."""
    cid = _require_cid(cid)
    print_items(
        fetch_items(server, token, f"/environments/{env}/connectors/{cid}/revisions"),
        as_json=as_json,
        columns=("revision", "created", "by", "note"),
        row=lambda r: (str(r["number"]), r["created_at"], r.get("created_by") or "", r.get("note") or ""),
    )


@app.command()
@friendly
def rollback(
    cid: CidOption = None,
    revision: Annotated[int, typer.Option(help="The revision to restore.")] = 0,
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Restore an earlier revision (as a new revision: history is never rewritten)."""
    cid = _require_cid(cid)
    if revision < 1:
        raise InputError("give the revision to restore with --revision N (see 'tether connector revisions')")
    with client_for(server, token) as client:
        connector = client.json(
            "POST", f"/environments/{env}/connectors/{cid}/rollback", json={"revision": revision}
        )
    _report_saved(connector, as_json=as_json, verb=f"rolled back to revision {revision}; now")


@app.command()
@friendly
def delete(
    cid: CidOption = None,
    env: EnvOption = "default",
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Delete even if it has connections (they, and their flows, stop).")
    ] = False,
    server: ServerOption = None,
    token: TokenOption = None,
) -> None:
    """Delete a connector and all its revisions (one with connections needs --force)."""
    cid = _require_cid(cid)
    if not yes:
        typer.confirm(f"Delete connector {cid} and all its revisions?", abort=True)
    with client_for(server, token) as client:
        params = {"force": "true"} if force else None
        client.request("DELETE", f"/environments/{env}/connectors/{cid}", params=params)
    out.print(f"Deleted connector {escape(cid)}.")


def _local_package(
    path: Path | None,
    api_def: Path | None,
    api_prop: Path | None,
    icon: Path | None,
    script: Path | None,
    settings: Path | None,
) -> ConnectorPackage:
    if path is None and api_def is None and settings is None:
        raise InputError("give a connector folder, --api-def FILE or --settings settings.json")
    return load_package(
        path, api_definition=api_def, api_properties=api_prop, icon=icon, script=script, settings=settings
    )


# The API's multipart part names (paconn's settings keys) for each package file.
_PARTS = {
    DEFINITION_FILE: "apiDefinition",
    PROPERTIES_FILE: "apiProperties",
    ICON_FILE: "icon",
    SCRIPT_FILE: "script",
}


def _upload(package: ConnectorPackage) -> dict[str, tuple[str, bytes, str]]:
    """The package as multipart parts; on update the server keeps files that are not sent.

    settings.json stays local (it names the target environment and id). A package with
    files that have no part name (script.csx) goes as one zip instead.
    """
    files = {k: v for k, v in package.files.items() if k != SETTINGS_FILE}
    if set(files) - set(_PARTS):
        return {
            "package": (
                "package.zip",
                package_from_files(files, source=package.source).to_zip(),
                "application/zip",
            )
        }
    return {_PARTS[name]: (name, content, "application/octet-stream") for name, content in files.items()}


def _settings_value(settings: Path | None, key: str) -> str | None:
    if settings is None:
        return None
    try:
        value = json.loads(settings.read_text(encoding="utf-8-sig")).get(key)
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) and value else None


def _update_settings(settings: Path, **values: Any) -> None:
    try:
        data = json.loads(settings.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        data = {}
    data.update(values)
    settings.write_text(json.dumps(data, indent=2) + "\n")


def _require_cid(cid: str | None) -> str:
    if not cid:
        raise InputError("give the connector id with --cid/-c (see 'tether connector list')")
    return cid


def _report_saved(connector: dict[str, Any], *, as_json: bool, verb: str) -> None:
    if as_json:
        print_json(connector)
        return
    out.print(
        f"Connector {escape(connector['display_name'])} {verb} revision {connector['current_revision']}.\n"
        f"  id: {connector['id']}\n  environment: {escape(connector['environment'])}"
    )
    oauth = connector.get("oauth")
    if oauth:
        # The URL the OAuth app must register, after every save (REFERENCE.md §1, redirect URIs).
        out.print(f"  OAuth redirect URL ({oauth['redirect_mode']}): {oauth['redirect_url']}")
        for step in oauth.get("steps") or []:
            out.print(f"  next: {escape(step)}")


def _oauth_client(client_id: str | None, client_secret: str | None) -> dict[str, str]:
    fields = {"client_id": client_id, "client_secret": client_secret}
    return {key: value for key, value in fields.items() if value is not None}
