"""The wizard's Definition tab: actions and triggers, an operation's fields, a new action built
from a sample request and response, lint findings, and the "Swagger editor" view of the whole
definition with the same findings as line markers."""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from tether.definition import DEFINITION_FILE, package_from_files
from tether.errors import InputError, PreconditionFailed, TetherError
from tether.importers import import_sample
from tether.portal._deps import Db, Env, Keys, SignedIn
from tether.portal._package_edit import VISIBILITIES, dump, edit_operation, operations_of
from tether.portal._routing import PortalRoute
from tether.portal._stale import Stale, posted_etag
from tether.portal._templates import render
from tether.portal._wizard import TABS, Wizard, open_wizard, save

__all__ = ["router"]

router = APIRouter(route_class=PortalRoute, include_in_schema=False)
Text = Annotated[str, Form()]
PREFIX = "/e/{env}/connectors/{connector}/edit/definition"


def _page(request: Request, wizard: Wizard, **extra: Any) -> Response:
    operations = wizard.operations
    chosen_id = extra.pop("op", None) or request.query_params.get("op")
    chosen = next((o for o in operations if o.operation_id == chosen_id), None)
    view = extra.pop("view", None) or request.query_params.get("view", "")
    source = extra.pop("source", None)
    findings = extra.pop("findings", None) or wizard.findings
    if view == "editor" and source is None:
        source = wizard.files.get(DEFINITION_FILE, b"").decode("utf-8", errors="replace")
    marks = sorted({f.line for f in findings if f.line and f.file.endswith(DEFINITION_FILE)})
    return render(
        request,
        "wizard/definition.html",
        title=wizard.info.display_name,
        section="connectors",
        env=wizard.env,
        wizard=wizard,
        tabs=TABS,
        tab="definition",
        operations=operations,
        chosen=chosen,
        visibilities=VISIBILITIES,
        view=view,
        source=source,
        findings=findings,
        marks=",".join(str(m) for m in marks),
        **extra,
    )


def _stale(exc: PreconditionFailed, wizard: Wizard, query: str) -> Stale:
    return Stale.from_error(exc, reload_url=f"{wizard.url}/edit/definition{query}")


@router.get(PREFIX)
def definition_tab(request: Request, env: Env, connector: str, db: Db, principal: SignedIn) -> Response:
    return _page(request, open_wizard(request, db, principal, env, connector))


@router.post(PREFIX + "/operation")
def save_operation(
    request: Request,
    env: Env,
    connector: str,
    db: Db,
    principal: SignedIn,
    keys: Keys,
    operation_id: Text = "",
    new_id: Text = "",
    summary: Text = "",
    description: Text = "",
    visibility: Text = "none",
    etag: Text = "",
) -> Response:
    wizard = open_wizard(request, db, principal, env, connector)
    loaded = posted_etag(etag)
    edited = {"new_id": new_id, "summary": summary, "description": description, "visibility": visibility}
    try:
        files = edit_operation(
            wizard.files,
            operation_id,
            new_id=new_id.strip(),
            summary=summary,
            description=description,
            visibility=visibility,
        )
        save(wizard, files, "Definition", keys, if_match=loaded)
    except PreconditionFailed as exc:
        stale = _stale(exc, wizard, f"?op={quote(operation_id, safe='')}")
        return _page(request, wizard, op=operation_id, edited=edited, stale=stale, status=412)
    except InputError as exc:
        return _page(
            request, wizard, op=operation_id, edited=edited, error=exc.message, status=400, etag=loaded
        )
    return RedirectResponse(f"{wizard.url}/edit/definition?op={new_id.strip()}&saved=1", status_code=303)


def _headers(text: str) -> list[list[str]]:
    headers = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise InputError(f"Request headers, line {number}: write one 'Name: value' per line.")
        headers.append([name.strip(), value.strip()])
    return headers


@router.post(PREFIX + "/sample")
def add_from_sample(
    request: Request,
    env: Env,
    connector: str,
    db: Db,
    principal: SignedIn,
    keys: Keys,
    operation_id: Text = "",
    summary: Text = "",
    description: Text = "",
    visibility: Text = "none",
    verb: Text = "GET",
    url: Text = "",
    headers: Text = "",
    body: Text = "",
    response_body: Text = "",
    etag: Text = "",
) -> Response:
    wizard = open_wizard(request, db, principal, env, connector)
    loaded = posted_etag(etag)
    sample = {
        "verb": verb,
        "url": url,
        "headers": headers,
        "body": body,
        "response_body": response_body,
        "operation_id": operation_id,
        "summary": summary,
        "description": description,
    }
    try:
        if not operation_id.strip():
            raise InputError("Give the action an operation ID, e.g. DetectSentiment.")
        described: dict[str, Any] = {"method": verb.upper(), "url": url.strip(), "headers": _headers(headers)}
        if body.strip():
            described["body"] = body
        before = {o.operation_id for o in operations_of(wizard.files)}
        package = package_from_files(wizard.files, source=wizard.info.name)
        result = import_sample(
            json.dumps(described).encode(),
            response_body.encode() if response_body.strip() else None,
            into=package,
        )
        files = dict(result.package.files)
        added = [o for o in operations_of(files) if o.operation_id not in before]
        if len(added) != 1:
            raise InputError("The sample did not add exactly one operation; check its method and URL.")
        files = edit_operation(
            files,
            added[0].operation_id,
            new_id=operation_id.strip(),
            summary=summary,
            description=description,
            visibility=visibility,
        )
        save(wizard, files, "Definition", keys, if_match=loaded)
    except PreconditionFailed as exc:
        return _page(request, wizard, sample=sample, stale=_stale(exc, wizard, ""), status=412)
    except InputError as exc:
        return _page(request, wizard, sample=sample, error=exc.message, status=400, etag=loaded)
    return RedirectResponse(
        f"{wizard.url}/edit/definition?op={operation_id.strip()}&saved=1", status_code=303
    )


@router.post(PREFIX + "/source")
def save_source(
    request: Request,
    env: Env,
    connector: str,
    db: Db,
    principal: SignedIn,
    keys: Keys,
    source: Text = "",
    etag: Text = "",
) -> Response:
    """The Swagger editor's save: the whole definition as JSON (refused with the line if unreadable)."""
    wizard = open_wizard(request, db, principal, env, connector)
    loaded = posted_etag(etag)
    try:
        try:
            value = json.loads(source)
        except ValueError as exc:
            line = getattr(exc, "lineno", None)
            raise InputError(f"{DEFINITION_FILE}, line {line}: not valid JSON ({exc.args[0]}).") from exc
        if not isinstance(value, dict):
            raise InputError(f"{DEFINITION_FILE} must hold a JSON object.")
        files = {**wizard.files, DEFINITION_FILE: dump(value)}
        save(wizard, files, "Definition (Swagger editor)", keys, if_match=loaded)
    except PreconditionFailed as exc:
        stale = _stale(exc, wizard, "?view=editor")
        return _page(request, wizard, view="editor", source=source, stale=stale, status=412)
    except TetherError as exc:
        if exc.status >= 500:
            raise
        return _page(
            request, wizard, view="editor", source=source, error=exc.message, status=400, etag=loaded
        )
    return RedirectResponse(f"{wizard.url}/edit/definition?view=editor&saved=1", status_code=303)
