"""Flows and runs: ``/environments/{env}/flows…`` (authenticated) and the Request trigger's
signed callback endpoint ``/flows/{id}/triggers/{name}/invoke?sig=…`` (no token: the signature is
the credential, as in Logic Apps' callback URLs).

Creating a run answers 202 with the run; the run itself proceeds in the executor. A Request
trigger whose flow has a Response action holds the caller until that action answers.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from tether import services
from tether.api._deps import AppSettings, CurrentPrincipal, Db, IfMatch, set_etag
from tether.api._flow_host import flow_host
from tether.api._paging import Page, paged, paging
from tether.api.routes._plain_trigger import PlainTrigger, encode_trigger_answer
from tether.api.routes.connections import Keys
from tether.errors import NotFound
from tether.flows.engine import form_body
from tether.hosting import FlowHost

router = APIRouter(tags=["flows"])
Runtime = Annotated[FlowHost, Depends(flow_host)]
_INVOKE_METHODS = ["POST", "GET", "PUT", "PATCH", "DELETE"]


class FlowRequest(BaseModel):
    name: str = Field(description="Slug, unique in the environment.")
    display_name: str | None = None
    definition: dict[str, Any] = Field(description="Workflow definition (bare, resource or ARM template).")
    connections: dict[str, str] = Field(
        default_factory=dict, description="$connections name -> connection id."
    )
    parameters: dict[str, Any] = Field(
        default_factory=dict, description="Values of the definition's parameters."
    )
    enabled: bool = True
    kind: str | None = Field(
        default=None,
        description="Stateful (default) or Stateless (runs in memory, keeps only some runs); "
        "when absent, a workflow.json's own top-level kind.",
    )
    run_history: str | None = Field(
        default=None,
        description="Which runs a Stateless flow stores: failures (default), sampled:N or all.",
    )


class FlowUpdate(BaseModel):
    display_name: str | None = None
    definition: dict[str, Any] | None = None
    connections: dict[str, str] | None = None
    parameters: dict[str, Any] | None = None
    kind: str | None = Field(default=None, description="Stateful or Stateless.")
    run_history: str | None = Field(
        default=None, description="Which runs a Stateless flow stores: failures, sampled:N or all."
    )


class RunRequest(BaseModel):
    body: Any = Field(default=None, description="The trigger body the run starts with.")
    headers: dict[str, str] = Field(default_factory=dict)


def _flow(info: services.FlowInfo, *, definition: bool = False) -> dict[str, Any]:
    data = asdict(info)
    if not definition:
        data.pop("definition")
    return data


@router.get("/environments/{env}/flows", summary="List flows")
def list_flows(
    env: str, db: Db, principal: CurrentPrincipal, page: Page = Depends(paging())
) -> dict[str, Any]:
    return paged(services.list_flows(db, principal, env), page, _flow)


@router.post(
    "/environments/{env}/flows", status_code=status.HTTP_201_CREATED, summary="Create a flow (makers)"
)
def create_flow(
    env: str, body: FlowRequest, db: Db, principal: CurrentPrincipal, keys: Keys
) -> dict[str, Any]:
    info = services.create_flow(
        db,
        principal,
        env,
        body.definition,
        name=body.name,
        display_name=body.display_name,
        connections=body.connections,
        parameters=body.parameters,
        enabled=body.enabled,
        keyring=keys,
        kind=body.kind,
        run_history=body.run_history,
    )
    return _flow(info, definition=True)


@router.get("/environments/{env}/flows/{flow}", summary="Show a flow with its definition")
def get_flow(env: str, flow: str, db: Db, principal: CurrentPrincipal, response: Response) -> dict[str, Any]:
    info = services.get_flow(db, principal, env, flow)
    set_etag(response, info.id, info.updated_at)
    return _flow(info, definition=True)


@router.patch("/environments/{env}/flows/{flow}", summary="Update a flow (makers)")
def update_flow(
    env: str,
    flow: str,
    body: FlowUpdate,
    db: Db,
    principal: CurrentPrincipal,
    keys: Keys,
    response: Response,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    info = services.update_flow(
        db,
        principal,
        env,
        flow,
        definition=body.definition,
        display_name=body.display_name,
        connections=body.connections,
        parameters=body.parameters,
        keyring=keys,
        kind=body.kind,
        run_history=body.run_history,
        if_match=if_match,
    )
    set_etag(response, info.id, info.updated_at)
    return _flow(info, definition=True)


@router.post("/environments/{env}/flows/{flow}/enable", summary="Enable a flow (makers)")
def enable_flow(
    env: str, flow: str, db: Db, principal: CurrentPrincipal, response: Response, if_match: IfMatch = None
) -> dict[str, Any]:
    return _switched(services.set_flow_enabled(db, principal, env, flow, True, if_match=if_match), response)


@router.post("/environments/{env}/flows/{flow}/disable", summary="Disable a flow (makers)")
def disable_flow(
    env: str, flow: str, db: Db, principal: CurrentPrincipal, response: Response, if_match: IfMatch = None
) -> dict[str, Any]:
    return _switched(services.set_flow_enabled(db, principal, env, flow, False, if_match=if_match), response)


def _switched(info: services.FlowInfo, response: Response) -> dict[str, Any]:
    set_etag(response, info.id, info.updated_at)  # the new version, for the next If-Match
    return _flow(info)


@router.delete(
    "/environments/{env}/flows/{flow}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a flow and its runs (makers)",
)
def delete_flow(env: str, flow: str, db: Db, principal: CurrentPrincipal, if_match: IfMatch = None) -> None:
    services.delete_flow(db, principal, env, flow, if_match=if_match)


@router.post(
    "/environments/{env}/flows/{flow}/callback-url", summary="The Request trigger's signed URL (makers)"
)
def callback_url(
    env: str, flow: str, db: Db, principal: CurrentPrincipal, settings: AppSettings, runtime: Runtime
) -> dict[str, Any]:
    url = services.callback_url(
        db, principal, env, flow, key=runtime.signing_key, public_url=settings.public_url
    )
    return {"value": url}


@router.post(
    "/environments/{env}/flows/{flow}/runs", status_code=status.HTTP_202_ACCEPTED, summary="Run a flow"
)
def run_flow(
    env: str, flow: str, db: Db, principal: CurrentPrincipal, runtime: Runtime, body: RunRequest | None = None
) -> dict[str, Any]:
    request = body or RunRequest()
    run = services.start_run(
        db, principal, env, flow, body=request.body, headers=request.headers, keyring=runtime.keyring
    )
    runtime.submit(run.id)
    return asdict(run)


@router.get("/environments/{env}/flows/{flow}/runs", summary="List a flow's runs, newest first")
def list_runs(
    env: str,
    flow: str,
    db: Db,
    principal: CurrentPrincipal,
    status: str | None = None,
    page: Page = Depends(paging(default=50, maximum=500)),
) -> dict[str, Any]:
    runs = services.list_runs(db, principal, env, flow, status=status, limit=page.end)
    return paged(runs, page, asdict)


@router.get(
    "/environments/{env}/flows/{flow}/runs/{run_id}", summary="A run with its trigger and action history"
)
def get_run(
    env: str, flow: str, run_id: str, db: Db, principal: CurrentPrincipal, keys: Keys
) -> dict[str, Any]:
    return asdict(services.get_run(db, principal, env, flow, run_id, keyring=keys))


@router.post(
    "/environments/{env}/flows/{flow}/runs/{run_id}/resubmit",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Run again with the same trigger outputs",
)
def resubmit_run(
    env: str, flow: str, run_id: str, db: Db, principal: CurrentPrincipal, runtime: Runtime
) -> dict[str, Any]:
    run = services.resubmit_run(db, principal, env, flow, run_id, keyring=runtime.keyring)
    runtime.submit(run.id)
    return asdict(run)


@router.post(
    "/environments/{env}/flows/{flow}/runs/{run_id}/cancel", summary="Cancel a waiting or running run"
)
def cancel_run(
    env: str, flow: str, run_id: str, db: Db, principal: CurrentPrincipal, runtime: Runtime
) -> dict[str, Any]:
    run = services.cancel_run(db, principal, env, flow, run_id)
    runtime.cancel(run_id)
    return asdict(run)


def _parse_body(raw: bytes, content_type: str) -> Any:
    if not raw:
        return None
    if content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
        return form_body(raw, content_type)
    if "json" in content_type or not content_type:
        try:
            return json.loads(raw)
        except ValueError:
            pass
    try:
        return raw.decode()
    except UnicodeDecodeError:
        import base64

        return {"$content-type": content_type, "$content": base64.b64encode(raw).decode()}


async def invoke_trigger(
    flow_id: str, trigger: str, request: Request, runtime: Runtime, sig: str | None = None, path: str = ""
) -> Response:
    # All on the event loop: the flow comes from the runtime's cache, the run row from the
    # journal's writer (a thread only when the database is busy), and the run starts here.
    body = _parse_body(await request.body(), request.headers.get("content-type", ""))
    queries = {k: v for k, v in request.query_params.items() if k != "sig"}
    run_id, future = await runtime.fire_request(
        flow_id,
        trigger,
        sig=sig,
        method=request.method,
        headers=dict(request.headers),
        queries=queries,
        body=body,
        path=path,
    )
    headers = {"x-ms-workflow-run-id": run_id}
    if future is not None:
        answer = await runtime.wait_response(run_id, future)
        if answer is not None:
            return _answer(answer, run_id)
    return JSONResponse({"runId": run_id, "status": "Accepted"}, status_code=202, headers=headers)


async def webhook_event(
    flow_id: str, trigger: str, request: Request, runtime: Runtime, sig: str | None = None
) -> Response:
    """An event for a subscribed webhook trigger (connector webhooks and HttpWebhook alike): 202 and
    a run whose trigger outputs are the event's headers and body. A wrong signature is a 401."""
    if runtime.triggers is None:
        raise NotFound("connector triggers are not running in this server")
    body = _parse_body(await request.body(), request.headers.get("content-type", ""))
    run = await runtime.triggers.accept_event(
        flow_id, trigger, sig=sig, headers=dict(request.headers), body=body
    )
    runtime.submit(run.id)
    return JSONResponse({"runId": run.id, "status": "Accepted"}, status_code=202)


router.add_api_route(
    "/flows/{flow_id}/triggers/{trigger}/events",
    webhook_event,
    methods=["POST"],
    summary="An event for a webhook trigger (signed callback URL, no token)",
    response_model=None,
)


# Registered first, so they serve the calls when the router is reached (the app's hot routes,
# api/_hot_routes.py, answer them before it); the FastAPI routes below document the endpoints in
# the OpenAPI schema. Same path templates: metrics and traces name the calls alike.
_TRIGGER_PATHS = ("/invoke", "/paths/invoke/{path:path}")
_plain_triggers = [PlainTrigger(_parse_body) for _ in _TRIGGER_PATHS]
for _plain, _suffix in zip(_plain_triggers, _TRIGGER_PATHS, strict=True):
    router.add_route(
        "/flows/{flow_id}/triggers/{trigger}" + _suffix,
        _plain,  # type: ignore[arg-type]
        methods=_INVOKE_METHODS,
        include_in_schema=False,
    )
    _plain.route = router.routes[-1]


def hot_routes(prefix: str) -> list[tuple[frozenset[str], str, PlainTrigger]]:
    """The plain trigger endpoints with their methods and full path templates (``api/_hot_routes.py``)."""
    return [
        (frozenset(_INVOKE_METHODS), f"{prefix}/flows/{{flow_id}}/triggers/{{trigger}}{suffix}", plain)
        for plain, suffix in zip(_plain_triggers, _TRIGGER_PATHS, strict=True)
    ]


# POST is documented; a trigger declaring another method is reached the same way (one OpenAPI entry,
# since FastAPI would otherwise give every method the same operation id).
for _method in _INVOKE_METHODS:
    router.add_api_route(
        "/flows/{flow_id}/triggers/{trigger}/invoke",
        invoke_trigger,
        methods=[_method],
        summary="Fire a Request trigger (signed URL, no token)",
        response_model=None,
        include_in_schema=_method == "POST",
    )
    # A trigger with a relativePath ('customers/{id}') is called as Logic Apps' are, at
    # .../paths/invoke/customers/42; the rest of the path fills relativePathParameters.
    router.add_api_route(
        "/flows/{flow_id}/triggers/{trigger}/paths/invoke/{path:path}",
        invoke_trigger,
        methods=[_method],
        summary="Fire a Request trigger that has a relativePath (signed URL, no token)",
        response_model=None,
        include_in_schema=_method == "POST",
        operation_id="invoke_trigger_relative_path",
    )


def _answer(answer: dict[str, Any], run_id: str) -> Response:
    """The Response action's answer, encoded as the plain endpoint encodes it."""
    status, raw_headers, content = encode_trigger_answer(answer, run_id)
    response = Response(content, status_code=status)
    response.raw_headers = raw_headers
    return response
