"""Calling connector operations: the invoke endpoint and the ``/apim`` pass-through.

``POST /environments/{env}/connections/{id}/invoke/{operationId}`` takes the arguments by
parameter name (``body`` for the body) and answers ``{status, headers, body, warnings}``; a
binary body comes base64-encoded with its content type. ``/apim/{connector}/{connection}/{path}``
takes the API's own requests (paths relative to the connector's base path, as in Power
Platform) and answers with the upstream response as it is.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.background import BackgroundTask

from tether import services
from tether.api._connector_runner import Connectors
from tether.api._deps import AppSettings, CurrentPrincipal, Db
from tether.api._problems import problem
from tether.api.routes.connections import Keys
from tether.runtime import RateLimited

__all__ = ["apim_router", "router"]

router = APIRouter(tags=["invoke"])
apim_router = APIRouter(tags=["invoke"])
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


def _rate_limited(exc: RateLimited) -> JSONResponse:
    """RFC 9457 problem with the ``Retry-After`` a client (or a flow's retry policy) waits for."""
    response = problem(exc.status, exc.code, exc.message, **exc.detail)
    response.headers["Retry-After"] = str(max(1, round(exc.retry_after)))
    return response


def _json_body(answer: services.InvokeAnswer) -> dict[str, Any]:
    body: Any = answer.body
    encoding = None
    if isinstance(body, bytes):
        body, encoding = base64.b64encode(body).decode("ascii"), "base64"
    return {
        "status": answer.status,
        "headers": answer.headers,
        "body": body,
        "body_encoding": encoding,
        "content_type": answer.content_type or None,
        "warnings": answer.warnings,
    }


@router.post(
    "/environments/{env}/connections/{connection}/invoke/{operation_id}",
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
) -> JSONResponse:
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
    return JSONResponse(_json_body(answer))  # already JSON-safe: skips FastAPI's re-encoding walk


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


# One route per method, so each gets its own operation id in the API's OpenAPI document.
for _method in _METHODS:
    apim_router.add_api_route(
        "/apim/{connector}/{connection}/{path:path}",
        apim,
        methods=[_method],
        operation_id=f"apim_{_method.lower()}",
        summary=f"{_method} the API's own paths through your connection (Power Platform's pass-through)",
        response_model=None,
    )
