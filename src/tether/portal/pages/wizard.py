"""The connector wizard's General, Security and Code tabs, creating a connector from blank, and
importing one (OpenAPI, Postman, WSDL, cURL, sample) into the wizard with its report on top.

Every save is one new revision through :func:`tether.services.update_connector` (as Power
Platform's "Update connector"), so the revision list and its diff show each step.
"""

from __future__ import annotations

import ast
import tempfile
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from tether import services
from tether.auth.providers import PROVIDER_BUILDERS
from tether.definition import ICON_FILE, SCRIPT_FILE, package_from_files
from tether.errors import InputError, PreconditionFailed, TetherError
from tether.importers import (
    ImportResult,
    import_curl,
    import_openapi,
    import_postman,
    import_sample,
    import_wsdl,
)
from tether.portal._deps import AppSettings, Db, Env, Keys, SignedIn
from tether.portal._icons import check_icon
from tether.portal._package_edit import (
    AUTH_TYPES,
    General,
    Security,
    apply_general,
    apply_security,
    new_package,
    properties_of,
    read_general,
    read_security,
    set_script,
)
from tether.portal._routing import PortalRoute
from tether.portal._stale import Stale, posted_etag
from tether.portal._templates import render
from tether.portal._wizard import TABS, Wizard, open_wizard, save
from tether.runtime.script import ALLOWED_MODULES
from tether.services import EnvironmentInfo

__all__ = ["router"]

router = APIRouter(route_class=PortalRoute, include_in_schema=False)

Text = Annotated[str, Form()]
IMPORT_FORMATS = {
    "openapi": "OpenAPI 2 or 3 (JSON or YAML)",
    "postman": "Postman collection (v2.0/v2.1)",
    "wsdl": "WSDL (SOAP)",
    "curl": "cURL command",
    "sample": "Sample request and response",
}


def _general_page(request: Request, env: EnvironmentInfo, general: General, **extra: Any) -> Response:
    return render(
        request,
        "wizard/general.html",
        title=extra.pop("title", None) or "New connector",
        section="connectors",
        env=env,
        general=general,
        tabs=TABS,
        tab="general",
        **extra,
    )


@router.get("/e/{env}/connectors/new")
def new(request: Request, env: Env, principal: SignedIn) -> Response:
    return _general_page(request, env, General(title=""), wizard=None)


@router.post("/e/{env}/connectors/new")
async def create(
    request: Request,
    env: Env,
    db: Db,
    principal: SignedIn,
    keys: Keys,
    title: Text = "",
    description: Text = "",
    scheme: Text = "https",
    host: Text = "",
    base_path: Text = "/",
    color: Text = "#007ee5",
    gateway: Text = "",
    icon: Annotated[UploadFile | None, File()] = None,
) -> Response:
    general = General(
        title, description, scheme, host.strip(), base_path.strip() or "/", color, gateway == "on"
    )
    try:
        files = new_package(general)
        if icon is not None and icon.filename:
            data = await icon.read()
            check_icon(data)
            files[ICON_FILE] = data
        package = package_from_files(files, source="wizard")
        info = await run_in_threadpool(
            lambda: services.create_connector(
                db, principal, env.name, package, note="Created in the portal", keyring=keys
            )
        )
    except InputError as exc:
        return _general_page(request, env, general, wizard=None, error=exc.message, status=400)
    return RedirectResponse(
        f"/e/{quote(env.name)}/connectors/{quote(info.name)}/edit/security", status_code=303
    )


@router.get("/e/{env}/connectors/{connector}/edit/general")
def general_tab(request: Request, env: Env, connector: str, db: Db, principal: SignedIn) -> Response:
    wizard = open_wizard(request, db, principal, env, connector)
    return _general_page(
        request, env, read_general(wizard.files), wizard=wizard, title=wizard.info.display_name
    )


@router.post("/e/{env}/connectors/{connector}/edit/general")
async def save_general(
    request: Request,
    env: Env,
    connector: str,
    db: Db,
    principal: SignedIn,
    keys: Keys,
    title: Text = "",
    description: Text = "",
    scheme: Text = "https",
    host: Text = "",
    base_path: Text = "/",
    color: Text = "#007ee5",
    gateway: Text = "",
    etag: Text = "",
    icon: Annotated[UploadFile | None, File()] = None,
) -> Response:
    wizard = await run_in_threadpool(open_wizard, request, db, principal, env, connector)
    general = General(
        title, description, scheme, host.strip(), base_path.strip() or "/", color, gateway == "on"
    )
    loaded = posted_etag(etag)
    try:
        files = apply_general(wizard.files, general)
        if icon is not None and icon.filename:
            data = await icon.read()
            check_icon(data)
            files[ICON_FILE] = data
        await run_in_threadpool(lambda: save(wizard, files, "General", keys, if_match=loaded))
    except PreconditionFailed as exc:
        stale = Stale.from_error(exc, reload_url=f"{wizard.url}/edit/general")
        return _general_page(
            request, env, general, wizard=wizard, stale=stale, status=412, title=wizard.info.display_name
        )
    except InputError as exc:
        return _general_page(
            request,
            env,
            general,
            wizard=wizard,
            error=exc.message,
            status=400,
            title=wizard.info.display_name,
            etag=loaded,
        )
    return RedirectResponse(f"{wizard.url}/edit/security", status_code=303)


def _security_page(
    request: Request, wizard: Wizard, security: Security, settings: Any, **extra: Any
) -> Response:
    oauth = services.connector_oauth(
        wizard.db, wizard.principal, wizard.env.name, wizard.info.id, public_url=settings.public_url
    )
    return render(
        request,
        "wizard/security.html",
        title=wizard.info.display_name,
        section="connectors",
        env=wizard.env,
        wizard=wizard,
        tabs=TABS,
        tab="security",
        security=security,
        auth_types=AUTH_TYPES,
        providers=sorted(PROVIDER_BUILDERS),
        oauth=oauth,
        parameter_sets=(properties_of(wizard.files)["properties"].get("connectionParameterSets") or {}).get(
            "values"
        )
        or [],
        **extra,
    )


@router.get("/e/{env}/connectors/{connector}/edit/security")
def security_tab(
    request: Request, env: Env, connector: str, db: Db, principal: SignedIn, settings: AppSettings
) -> Response:
    wizard = open_wizard(request, db, principal, env, connector)
    return _security_page(request, wizard, read_security(wizard.files), settings)


@router.post("/e/{env}/connectors/{connector}/edit/security")
def save_security(
    request: Request,
    env: Env,
    connector: str,
    db: Db,
    principal: SignedIn,
    keys: Keys,
    settings: AppSettings,
    kind: Text = "none",
    key_label: Text = "API Key",
    key_name: Text = "",
    key_in: Text = "header",
    username_label: Text = "Username",
    password_label: Text = "Password",
    provider: Text = "oauth2",
    client_id: Text = "",
    client_secret: Text = "",
    authorization_url: Text = "",
    token_url: Text = "",
    refresh_url: Text = "",
    scopes: Text = "",
    unique_redirect: Text = "",
    etag: Text = "",
) -> Response:
    wizard = open_wizard(request, db, principal, env, connector)
    loaded = posted_etag(etag)
    security = Security(
        kind=kind,
        key_label=key_label,
        key_name=key_name,
        key_in=key_in,
        username_label=username_label,
        password_label=password_label,
        provider=provider,
        client_id=client_id,
        authorization_url=authorization_url.strip(),
        token_url=token_url.strip(),
        refresh_url=refresh_url.strip(),
        scopes=tuple(s for s in scopes.replace(",", " ").split() if s),
    )
    try:
        files = apply_security(wizard.files, security)
        save(wizard, files, "Security", keys, client_secret=client_secret or None, if_match=loaded)
        if unique_redirect == "on":
            services.set_redirect_mode(
                db, principal, env.name, wizard.info.id, "GlobalPerConnector", public_url=settings.public_url
            )
    except PreconditionFailed as exc:
        stale = Stale.from_error(exc, reload_url=f"{wizard.url}/edit/security")
        return _security_page(request, wizard, security, settings, stale=stale, status=412)
    except InputError as exc:
        return _security_page(request, wizard, security, settings, error=exc.message, status=400, etag=loaded)
    return RedirectResponse(f"{wizard.url}/edit/security?saved=1", status_code=303)


@router.get("/e/{env}/connectors/{connector}/edit/code")
def code_tab(request: Request, env: Env, connector: str, db: Db, principal: SignedIn) -> Response:
    wizard = open_wizard(request, db, principal, env, connector)
    props = properties_of(wizard.files)["properties"]
    script = wizard.files.get(SCRIPT_FILE, b"").decode("utf-8", errors="replace")
    return _code_page(request, wizard, script, list(props.get("scriptOperations") or []))


def _code_page(request: Request, wizard: Wizard, script: str, chosen: list[str], **extra: Any) -> Response:
    return render(
        request,
        "wizard/code.html",
        title=wizard.info.display_name,
        section="connectors",
        env=wizard.env,
        wizard=wizard,
        tabs=TABS,
        tab="code",
        script=script,
        chosen=chosen,
        operations=wizard.operations,
        **extra,
    )


def check_script_source(source: str) -> None:
    """Syntax errors and forbidden imports, with the line, before anything is saved."""
    try:
        tree = ast.parse(source, filename=SCRIPT_FILE)
    except SyntaxError as exc:
        raise InputError(f"{SCRIPT_FILE}, line {exc.lineno}: syntax error: {exc.msg}.") from exc
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        else:
            continue
        for name in names:
            if not any(name == allowed or name.startswith(allowed + ".") for allowed in ALLOWED_MODULES):
                raise InputError(
                    f"{SCRIPT_FILE}, line {node.lineno}: 'import {name}' is forbidden in connector code "
                    f"(allowed: {', '.join(sorted(ALLOWED_MODULES))})."
                )


@router.post("/e/{env}/connectors/{connector}/edit/code")
async def save_code(
    request: Request, env: Env, connector: str, db: Db, principal: SignedIn, keys: Keys
) -> Response:
    wizard = await run_in_threadpool(open_wizard, request, db, principal, env, connector)
    form = await request.form()
    script = str(form.get("script") or "")
    chosen = [str(v) for v in form.getlist("operations")]
    loaded = posted_etag(form)
    try:
        if script.strip():
            check_script_source(script)
        files = set_script(wizard.files, script, chosen)
        await run_in_threadpool(lambda: save(wizard, files, "Code", keys, if_match=loaded))
    except PreconditionFailed as exc:
        stale = Stale.from_error(exc, reload_url=f"{wizard.url}/edit/code")
        return _code_page(request, wizard, script, chosen, stale=stale, status=412)
    except InputError as exc:
        return _code_page(request, wizard, script, chosen, error=exc.message, status=400, etag=loaded)
    return RedirectResponse(f"{wizard.url}/edit/code?saved=1", status_code=303)


@router.get("/e/{env}/connectors/import")
def import_page(request: Request, env: Env, principal: SignedIn) -> Response:
    return render(
        request,
        "wizard/import.html",
        title="Import a connector",
        section="connectors",
        env=env,
        formats=IMPORT_FORMATS,
        chosen="openapi",
    )


def _run_importer(
    kind: str, data: bytes, filename: str, command: str, sample_response: bytes | None
) -> ImportResult:
    if kind == "openapi":
        with tempfile.TemporaryDirectory(prefix="tether-portal-import-") as folder:
            path = Path(folder) / (Path(filename).name or "openapi.json")
            path.write_bytes(data)
            return import_openapi(path)
    if kind == "postman":
        return import_postman(data, name=filename or "collection.json")
    if kind == "wsdl":
        return import_wsdl(data, name=filename or "service.wsdl")
    if kind == "curl":
        return import_curl(command)
    if kind == "sample":
        return import_sample(data or command.encode(), sample_response or None)
    raise InputError(f"Unknown import format {kind!r}: choose one of {', '.join(IMPORT_FORMATS)}.")


@router.post("/e/{env}/connectors/import")
async def import_connector(
    request: Request,
    env: Env,
    db: Db,
    principal: SignedIn,
    keys: Keys,
    format: Text = "openapi",
    command: Text = "",
    file: Annotated[UploadFile | None, File()] = None,
    response_sample: Annotated[UploadFile | None, File()] = None,
) -> Response:
    data = await file.read() if file is not None and file.filename else b""
    answer = (
        await response_sample.read() if response_sample is not None and response_sample.filename else None
    )
    try:
        if format in ("openapi", "postman", "wsdl") and not data:
            raise InputError("Choose the file to import.")
        result = await run_in_threadpool(
            _run_importer,
            format,
            data,
            file.filename if file is not None and file.filename else "",
            command,
            answer,
        )
        info = await run_in_threadpool(
            lambda: services.create_connector(
                db,
                principal,
                env.name,
                result.package,
                note=f"Imported ({format}) in the portal",
                keyring=keys,
            )
        )
    except TetherError as exc:
        return render(
            request,
            "wizard/import.html",
            status=exc.status if exc.status < 500 else 400,
            title="Import a connector",
            section="connectors",
            env=env,
            formats=IMPORT_FORMATS,
            chosen=format,
            command=command,
            error=exc.message,
        )
    wizard = await run_in_threadpool(open_wizard, request, db, principal, env, info.name)
    return _general_page(
        request,
        env,
        read_general(wizard.files),
        wizard=wizard,
        title=wizard.info.display_name,
        report=result.report,
        imported=IMPORT_FORMATS.get(format, format),
    )
