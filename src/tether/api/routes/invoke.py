"""Calling connector operations: the invoke endpoint and the ``/apim`` pass-through.

``POST /environments/{env}/connections/{id}/invoke/{operationId}`` takes the arguments by
parameter name (``body`` for the body) and answers ``{status, headers, body, warnings}``; a
binary body comes base64-encoded with its content type. ``/apim/{connector}/{connection}/{path}``
takes the API's own requests (paths relative to the connector's base path, as in Power
Platform) and answers with the upstream response as it is.

Both are the product's hot path, so each is served by a plain ASGI endpoint (``_plain.py``)
registered before the FastAPI routes below: no dependency solving or body model per call. The
FastAPI routes, reached only for what the plain endpoint hands back to them (a body that is not
a JSON object), document the endpoints in the OpenAPI schema and give their exact errors.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi.routing import APIRoute
from starlette.background import BackgroundTask

from tether import services
from tether.api._connector_runner import Connectors
from tether.api._deps import AppSettings, CurrentPrincipal, Db
from tether.api._problems import problem
from tether.api.routes._plain import PlainApim, PlainInvoke, json_answer
from tether.api.routes.connections import Keys
from tether.runtime import RateLimited

__all__ = ["apim_router", "apim_routes", "hot_routes", "router"]

router = APIRouter(tags=["invoke"])
apim_router = APIRouter(tags=["invoke"])
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
_INVOKE_PATH = "/environments/{env}/connections/{connection}/invoke/{operation_id}"
_APIM_PATH = "/apim/{connector}/{connection}/{path:path}"

# Registered first, so they serve the calls; the FastAPI routes below document them (and take
# what the plain endpoint hands on). Same path templates: metrics and traces name them alike.
_plain_invoke, _plain_apim = PlainInvoke(), PlainApim()
router.add_route(_INVOKE_PATH, _plain_invoke, methods=["POST"], include_in_schema=False)  # type: ignore[arg-type]
apim_router.add_route(_APIM_PATH, _plain_apim, methods=_METHODS, include_in_schema=False)  # type: ignore[arg-type]
_plain_invoke.route, _plain_apim.route = router.routes[-1], apim_router.routes[-1]


def hot_routes(prefix: str) -> list[tuple[frozenset[str], str, PlainInvoke | PlainApim]]:
    """The plain endpoints with their methods and full path templates (``api/_hot_routes.py``)."""
    return [
        (frozenset({"POST"}), prefix + _INVOKE_PATH, _plain_invoke),
        (frozenset(_METHODS), _APIM_PATH, _plain_apim),
    ]


def _rate_limited(exc: RateLimited) -> JSONResponse:
    """RFC 9457 problem with the ``Retry-After`` a client (or a flow's retry policy) waits for."""
    response = problem(exc.status, exc.code, exc.message, **exc.detail)
    response.headers["Retry-After"] = str(max(1, round(exc.retry_after)))
    return response


@router.post(
    _INVOKE_PATH,
    summary="Call an operation through your connection",
    response_model=None,
)
async def invoke(
    env: str,
    connection: str,
    operation_id: str,
    db: Db,
    principal: CurrentPrincipal,
    settings: AppSettings,
    keys: Keys,
    connectors: Connectors,
    arguments: Annotated[dict[str, Any] | None, Body()] = None,
) -> Response:
    try:
        answer = await services.invoke_operation(
            db,
            principal,
            env,
            connection,
            operation_id,
            arguments or {},
            runtime=connectors,
            keyring=keys,
            public_url=settings.public_url,
        )
    except RateLimited as exc:
        return _rate_limited(exc)
    return json_answer(answer)


async def apim(
    connector: str,
    connection: str,
    path: str,
    request: Request,
    db: Db,
    principal: CurrentPrincipal,
    keys: Keys,
    connectors: Connectors,
) -> Response:
    try:
        answer = await services.pass_through(
            db,
            principal,
            connector,
            connection,
            request.method,
            path,
            query=request.url.query,
            headers=dict(request.headers),
            body=await request.body(),
            runtime=connectors,
            keyring=keys,
        )
    except RateLimited as exc:
        return _rate_limited(exc)
    upstream = answer.response
    return StreamingResponse(
        upstream.aiter_bytes(),
        status_code=answer.status,
        headers=answer.headers,
        background=BackgroundTask(upstream.aclose),
    )


# The plain endpoint hands a request it does not take (no bearer token, a body that is not a JSON
# object) to the documented route.
_plain_invoke.documented = next(r for r in router.routes if isinstance(r, APIRoute))

# One route per method, so each gets its own operation id in the API's OpenAPI document.
for _method in _METHODS:
    apim_router.add_api_route(
        _APIM_PATH,
        apim,
        methods=[_method],
        operation_id=f"apim_{_method.lower()}",
        summary=f"{_method} the API's own paths through your connection (Power Platform's pass-through)",
        response_model=None,
    )
# The documented /apim route per method: the plain endpoint hands a request without a token to them.
apim_routes: dict[str, APIRoute] = {
    method: route
    for route in apim_router.routes
    if isinstance(route, APIRoute)
    for method in route.methods or ()
}
