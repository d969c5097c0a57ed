"""The wizard's Test tab: pick or create a connection, pick an operation, fill a form built from
its parameters, run it through :func:`tether.services.invoke_operation`, and see status, duration,
headers and body; the last calls stay listed to compare."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from tether import services
from tether.definition import DEFINITION_FILE, Operation, compile_api, parse_document
from tether.errors import InputError, TetherError
from tether.portal._deps import AppSettings, Db, Env, Keys, Runtime, SignedIn
from tether.portal._routing import PortalRoute
from tether.portal._templates import render
from tether.portal._test_form import arguments_from, fields_for
from tether.portal._wizard import TABS, Wizard, open_wizard

__all__ = ["router"]

router = APIRouter(route_class=PortalRoute, include_in_schema=False)
PREFIX = "/e/{env}/connectors/{connector}/edit/test"
MAX_SHOWN_BODY = 200_000


def _operations(wizard: Wizard) -> list[Operation]:
    raw = wizard.files.get(DEFINITION_FILE, b"{}")
    api = compile_api(parse_document(raw, name=DEFINITION_FILE, format="json").data)
    return [op for op in api.operations if op.trigger is None]


def _page(request: Request, wizard: Wizard, settings: Any, **extra: Any) -> Response:
    operations = _operations(wizard)
    chosen_id = extra.pop("operation", None) or request.query_params.get("operation")
    chosen = next(
        (o for o in operations if o.operation_id == chosen_id), operations[0] if operations else None
    )
    connections = [
        c
        for c in services.list_connections(wizard.db, wizard.principal, wizard.env.name)
        if c.connector_id == wizard.info.id and c.owner == wizard.principal.username
    ]
    connection_id = extra.pop("connection", None) or request.query_params.get("connection")
    if connection_id is None and connections:
        connection_id = connections[-1].id
    form = services.connection_form(
        wizard.db, wizard.principal, wizard.env.name, wizard.info.id, public_url=settings.public_url
    )
    calls = services.list_test_calls(
        wizard.db, wizard.principal, wizard.env.name, wizard.info.id, keyring=extra.pop("keyring")
    )
    return render(
        request,
        "wizard/test.html",
        title=wizard.info.display_name,
        section="connectors",
        env=wizard.env,
        wizard=wizard,
        tabs=TABS,
        tab="test",
        operations=operations,
        chosen=chosen,
        fields=fields_for(chosen) if chosen else [],
        connections=connections,
        connection_id=connection_id,
        connection_form=form,
        calls=calls,
        shown=calls[0] if calls and extra.get("ran") else None,
        values=extra.pop("values", {}),
        **extra,
    )


@router.get(PREFIX)
def test_tab(
    request: Request, env: Env, connector: str, db: Db, principal: SignedIn, settings: AppSettings, keys: Keys
) -> Response:
    return _page(request, open_wizard(request, db, principal, env, connector), settings, keyring=keys)


@router.post(PREFIX + "/connection")
async def create_connection(
    request: Request, env: Env, connector: str, db: Db, principal: SignedIn, settings: AppSettings, keys: Keys
) -> Response:
    wizard = await run_in_threadpool(open_wizard, request, db, principal, env, connector)
    form = await request.form()
    parameter_set = str(form.get("parameter_set") or "") or None
    values = {
        str(key)[2:]: str(value)
        for key, value in form.multi_items()
        if str(key).startswith("c.") and isinstance(value, str) and value != ""
    }
    try:
        info = await run_in_threadpool(
            lambda: services.create_connection(
                db,
                principal,
                env.name,
                wizard.info.id,
                values,
                keyring=keys,
                public_url=settings.public_url,
                parameter_set=parameter_set,
                display_name=str(form.get("display_name") or "") or None,
            )
        )
    except TetherError as exc:
        if exc.status >= 500:
            raise
        message = exc.message
        return await run_in_threadpool(
            lambda: _page(request, wizard, settings, connection_error=message, status=400, keyring=keys)
        )
    if info.consent_url:
        return RedirectResponse(info.consent_url, status_code=303)
    return RedirectResponse(f"{wizard.url}/edit/test?connection={quote(info.id)}", status_code=303)


@router.post(PREFIX + "/run")
async def run(
    request: Request,
    env: Env,
    connector: str,
    db: Db,
    principal: SignedIn,
    settings: AppSettings,
    keys: Keys,
    runtime: Runtime,
) -> Response:
    wizard = await run_in_threadpool(open_wizard, request, db, principal, env, connector)
    form = await request.form()
    values = {str(k): str(v) for k, v in form.multi_items() if isinstance(v, str)}
    operation_id = values.get("operation", "")
    connection = values.get("connection", "")
    operations = _operations(wizard)
    operation = next((o for o in operations if o.operation_id == operation_id), None)
    try:
        if operation is None:
            raise InputError("Choose the operation to test.")
        if not connection:
            raise InputError("Choose a connection, or create one first.")
        arguments = arguments_from(operation, values, values.get("raw_body", ""))
    except InputError as exc:
        message = exc.message
        return await run_in_threadpool(
            lambda: _page(
                request,
                wizard,
                settings,
                operation=operation_id,
                connection=connection,
                values=values,
                run_error=message,
                status=400,
                keyring=keys,
            )
        )
    started = time.perf_counter()
    call: dict[str, Any] = {"operation_id": operation_id, "connection_id": connection}
    sent: list[str] = []
    try:
        answer = await services.invoke_operation(
            db, principal, env.name, connection, operation_id, arguments,
            runtime=runtime, keyring=keys, public_url=settings.public_url, observe=sent.append,
        )  # fmt: skip
        body = answer.body
        if isinstance(body, bytes):
            body = f"<{len(body):,} bytes of {answer.content_type or 'binary data'}>"
        elif isinstance(body, str):
            body = body[:MAX_SHOWN_BODY]
        call.update(status=answer.status, headers=answer.headers, body=body, warnings=tuple(answer.warnings))
    except TetherError as exc:
        if exc.status == 500 and exc.code == "tether-error":
            raise
        call.update(status=None, headers={}, body=None, error=exc.message)
    call["duration_ms"] = (time.perf_counter() - started) * 1000
    call["request"] = "\n\n".join(sent)  # one per request sent: retries, polls and pages included
    await run_in_threadpool(
        lambda: services.record_test_call(db, principal, env.name, wizard.info.id, keyring=keys, **call)
    )
    return await run_in_threadpool(
        lambda: _page(
            request, wizard, settings, operation=operation_id, connection=connection, values=values, ran=True,
            keyring=keys,
        )
    )  # fmt: skip
