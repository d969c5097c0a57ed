"""Flows: the list, the JSON editor with its findings and picture, a flow's page (bindings,
enable/disable, run now or the Request trigger's signed URL, run history), delete.

Runs start through the services and go to the app's flow host (``app.state.flow_host``, the
one the API uses), so a run started here is the same as one started with ``POST …/runs``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from tether import services
from tether.config import Settings
from tether.errors import ConfigurationError, InputError, PreconditionFailed, TetherError
from tether.hosting import FlowHost
from tether.portal._deps import AppSettings, Db, Env, Keys, SignedIn
from tether.portal._flow_editing import (
    Finding,
    connection_references,
    findings_of,
    offline_findings,
    parse_definition,
)
from tether.portal._flow_picture import flow_picture, render_flow_picture
from tether.portal._routing import PortalRoute
from tether.portal._stale import Stale, etag_of, posted_etag
from tether.portal._templates import render
from tether.secrets import KeyRing
from tether.services import EnvironmentInfo, FlowInfo, Principal
from tether.store import Database

__all__ = ["router", "runtime_of"]

router = APIRouter(route_class=PortalRoute, include_in_schema=False)

STARTER_DEFINITION = {
    "$schema": "https://schema.management.azure.com/providers/Microsoft.Logic/schemas/2016-06-01/"
    "workflowdefinition.json#",
    "contentVersion": "1.0.0.0",
    "triggers": {"manual": {"type": "Request", "kind": "Http", "inputs": {"schema": {"type": "object"}}}},
    "actions": {
        "Answer": {"type": "Response", "inputs": {"statusCode": 200, "body": "@triggerBody()"}},
    },
}
_RUN_LIST_LIMIT = 50


async def runtime_of(request: Request) -> FlowHost:
    """The app's flow runtime (started with the server; the API's routes use the same one)."""
    runtime: FlowHost | None = getattr(request.app.state, "flow_host", None)
    if runtime is None:
        raise ConfigurationError("Flows are not running in this server (it was started without them).")
    return runtime


Runtime = Annotated[FlowHost, Depends(runtime_of)]


def _form_text(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _bindings(form: Any) -> dict[str, str]:
    """``conn:<reference>`` selects → the flow's connections (blank: not bound)."""
    return {
        key.removeprefix("conn:"): value
        for key, value in form.multi_items()
        if key.startswith("conn:") and isinstance(value, str) and value
    }


def _picture_html(definition: Any) -> str | None:
    try:
        return render_flow_picture(flow_picture(definition))
    except TetherError:
        return None  # the findings say why


def _connections(db: Database, principal: Principal, env: str) -> list[services.ConnectionInfo]:
    try:
        return services.list_connections(db, principal, env)
    except TetherError:
        return []


def _editor(
    request: Request,
    db: Database,
    principal: Principal,
    env: str,
    *,
    flow: FlowInfo | None,
    text: str,
    name: str = "",
    display_name: str = "",
    bound: dict[str, str] | None = None,
    findings: list[Finding] | None = None,
    checked: bool = False,
    status: int = 200,
    etag: str | None = None,
    stale: Stale | None = None,
) -> Response:
    """The JSON editor; ``etag`` is the one the user's form was loaded with (kept across checks and
    refused saves, so that only an explicit save after a :class:`Stale` banner overwrites)."""
    definition, _ = parse_definition(text)
    return render(
        request,
        "flows/edit.html",
        status=status,
        title=f"Edit {flow.display_name}" if flow else "New flow",
        section="flows",
        flow=flow,
        text=text,
        name=name,
        display_name=display_name,
        references=connection_references(definition, bound),
        bound=bound or {},
        connections=_connections(db, principal, env),
        findings=findings or [],
        checked=checked,
        picture=_picture_html(definition) if definition is not None else None,
        etag=etag,
        stale=stale,
    )


@router.get("/e/{env}/flows")
def list_flows(request: Request, env: Env, db: Db, principal: SignedIn) -> Response:
    flows = services.list_flows(db, principal, env.name)
    return render(request, "flows/list.html", title="Flows", section="flows", flows=flows)


@router.get("/e/{env}/flows/new")
def new_flow(request: Request, env: Env, db: Db, principal: SignedIn) -> Response:
    return _editor(request, db, principal, env.name, flow=None, text=json.dumps(STARTER_DEFINITION, indent=2))


@router.post("/e/{env}/flows/new")
async def create_flow(request: Request, env: Env, db: Db, principal: SignedIn, keys: Keys) -> Response:
    form = await request.form()
    return await run_in_threadpool(_create_flow, request, env, db, principal, keys, form)


def _create_flow(
    request: Request, env: EnvironmentInfo, db: Database, principal: Principal, keys: KeyRing, form: Any
) -> Response:
    text, name = _form_text(form, "definition"), _form_text(form, "name").strip()
    display_name, bound = _form_text(form, "display_name").strip(), _bindings(form)

    def again(findings: list[Finding], *, checked: bool = False, status: int = 422) -> Response:
        return _editor(
            request,
            db,
            principal,
            env.name,
            flow=None,
            text=text,
            name=name,
            display_name=display_name,
            bound=bound,
            findings=findings,
            checked=checked,
            status=status,
        )

    definition, findings = parse_definition(text)
    if definition is None:
        return again(findings)
    if _form_text(form, "intent") == "check":
        return again(offline_findings(definition), checked=True, status=200)
    if not name:
        return again([Finding("flow/name", "Give the flow a name (letters, digits, - and _).", "name")])
    try:
        info = services.create_flow(
            db,
            principal,
            env.name,
            definition,
            name=name,
            display_name=display_name or None,
            connections=bound,
            keyring=keys,
        )
    except TetherError as exc:
        if exc.status >= 500 or exc.status in (401, 403, 404):
            raise
        return again(findings_of(exc))
    return RedirectResponse(f"/e/{env.name}/flows/{info.name}", status_code=303)


@router.get("/e/{env}/flows/{flow}")
def show_flow(
    request: Request,
    env: Env,
    flow: str,
    db: Db,
    principal: SignedIn,
    settings: AppSettings,
    runtime: Runtime,
) -> Response:
    return _flow_page(request, env.name, flow, db, principal, settings, runtime)


def _flow_page(
    request: Request,
    env: str,
    flow: str,
    db: Database,
    principal: Principal,
    settings: Settings,
    runtime: FlowHost,
    *,
    body_text: str = "{}",
    run_error: str | None = None,
    stale: Stale | None = None,
) -> Response:
    info = services.get_flow(db, principal, env, flow)
    runs, runs_hidden = [], None
    try:
        runs = services.list_runs(db, principal, env, info.name, limit=_RUN_LIST_LIMIT)
    except TetherError as exc:
        if exc.status != 403:
            raise
        runs_hidden = exc.message
    callback = None
    if info.trigger_type == "Request":
        try:
            callback = services.callback_url(
                db, principal, env, info.name, key=runtime.signing_key, public_url=settings.public_url
            )
        except TetherError:
            callback = None  # only makers who may change the flow see its secret URL
    return render(
        request,
        "flows/show.html",
        status=412 if stale else 422 if run_error else 200,
        title=info.display_name,
        section="flows",
        flow=info,
        picture=_picture_html(info.definition),
        runs=runs,
        runs_hidden=runs_hidden,
        callback_url=callback,
        body_text=body_text,
        run_error=run_error,
        etag=etag_of(info),
        stale=stale,
    )


@router.get("/e/{env}/flows/{flow}/edit")
def edit_flow(request: Request, env: Env, flow: str, db: Db, principal: SignedIn) -> Response:
    info = services.get_flow(db, principal, env.name, flow)
    return _editor(
        request,
        db,
        principal,
        env.name,
        flow=info,
        text=json.dumps(info.definition, indent=2),
        name=info.name,
        display_name=info.display_name,
        bound=dict(info.connections),
        etag=etag_of(info),
    )


@router.post("/e/{env}/flows/{flow}/edit")
async def save_flow(
    request: Request, env: Env, flow: str, db: Db, principal: SignedIn, keys: Keys
) -> Response:
    form = await request.form()
    return await run_in_threadpool(_save_flow, request, env, flow, db, principal, keys, form)


def _save_flow(
    request: Request,
    env: EnvironmentInfo,
    flow: str,
    db: Database,
    principal: Principal,
    keys: KeyRing,
    form: Any,
) -> Response:
    info = services.get_flow(db, principal, env.name, flow)
    text, display_name, bound = (
        _form_text(form, "definition"),
        _form_text(form, "display_name"),
        _bindings(form),
    )
    loaded = posted_etag(form)

    def again(
        findings: list[Finding], *, checked: bool = False, status: int = 422, stale: Stale | None = None
    ) -> Response:
        return _editor(
            request,
            db,
            principal,
            env.name,
            flow=info,
            text=text,
            name=info.name,
            display_name=display_name,
            bound=bound,
            findings=findings,
            checked=checked,
            status=status,
            etag=loaded,
            stale=stale,
        )

    definition, findings = parse_definition(text)
    if definition is None:
        return again(findings)
    if _form_text(form, "intent") == "check":
        return again(offline_findings(definition), checked=True, status=200)
    try:
        services.update_flow(
            db,
            principal,
            env.name,
            info.name,
            definition=definition,
            display_name=display_name.strip() or None,
            connections=bound,
            keyring=keys,
            if_match=loaded,
        )
    except PreconditionFailed as exc:
        reload_url = f"/e/{env.name}/flows/{info.name}/edit"
        return again([], status=412, stale=Stale.from_error(exc, reload_url=reload_url))
    except TetherError as exc:
        if exc.status >= 500 or exc.status in (401, 403, 404):
            raise
        return again(findings_of(exc))
    return RedirectResponse(f"/e/{env.name}/flows/{info.name}", status_code=303)


@router.post("/e/{env}/flows/{flow}/enable")
async def enable_flow(request: Request, env: Env, flow: str, db: Db, principal: SignedIn) -> Response:
    return await _switch(request, env, flow, db, principal, enabled=True)


@router.post("/e/{env}/flows/{flow}/disable")
async def disable_flow(request: Request, env: Env, flow: str, db: Db, principal: SignedIn) -> Response:
    return await _switch(request, env, flow, db, principal, enabled=False)


async def _switch(
    request: Request, env: EnvironmentInfo, flow: str, db: Database, principal: Principal, *, enabled: bool
) -> Response:
    """Enable or disable with the ETag the flow's page was loaded with (its page again if stale)."""
    loaded = posted_etag(await request.form())
    try:
        info = await run_in_threadpool(
            lambda: services.set_flow_enabled(db, principal, env.name, flow, enabled, if_match=loaded)
        )
    except PreconditionFailed as exc:
        return await _stale_flow_page(request, env, flow, db, principal, exc)
    return RedirectResponse(f"/e/{env.name}/flows/{info.name}", status_code=303)


@router.post("/e/{env}/flows/{flow}/delete")
async def delete_flow(request: Request, env: Env, flow: str, db: Db, principal: SignedIn) -> Response:
    loaded = posted_etag(await request.form())
    try:
        await run_in_threadpool(lambda: services.delete_flow(db, principal, env.name, flow, if_match=loaded))
    except PreconditionFailed as exc:
        return await _stale_flow_page(request, env, flow, db, principal, exc)
    return RedirectResponse(f"/e/{env.name}/flows", status_code=303)


async def _stale_flow_page(
    request: Request,
    env: EnvironmentInfo,
    flow: str,
    db: Database,
    principal: Principal,
    exc: PreconditionFailed,
) -> Response:
    """The flow's page as it is now, with the banner and the current ETag in its forms."""
    runtime = await runtime_of(request)
    settings: Settings = request.app.state.settings
    stale = Stale.from_error(exc, reload_url=f"/e/{env.name}/flows/{flow}")
    return await run_in_threadpool(
        lambda: _flow_page(request, env.name, flow, db, principal, settings, runtime, stale=stale)
    )


@router.post("/e/{env}/flows/{flow}/run")
async def run_flow(
    request: Request,
    env: Env,
    flow: str,
    db: Db,
    principal: SignedIn,
    settings: AppSettings,
    runtime: Runtime,
) -> Response:
    form = await request.form()
    text = _form_text(form, "body").strip()
    body: Any = None
    try:
        if text:
            try:
                body = json.loads(text)
            except json.JSONDecodeError as exc:
                raise InputError(
                    f"The trigger body is not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}); "
                    "fix it, or leave it empty."
                ) from None
        run = await run_in_threadpool(
            services.start_run, db, principal, env.name, flow, body=body, keyring=runtime.keyring
        )
    except TetherError as exc:
        if exc.status >= 500 or exc.status in (401, 403, 404):
            raise
        return await run_in_threadpool(
            _flow_page, request, env.name, flow, db, principal, settings, runtime, body_text=text,
            run_error=exc.message,
        )  # fmt: skip
    runtime.submit(run.id)
    return RedirectResponse(f"/e/{env.name}/flows/{flow}/runs/{run.id}", status_code=303)
