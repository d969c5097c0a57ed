"""A real local event service for the trigger tests, and the connector package that calls it.

``EventsApi`` serves a polling trigger, a ``pollingtrigger`` cursor trigger, a connector webhook
(subscribe answers ``201`` + ``Location``; DELETE on it unsubscribes) and plain HTTP webhook
endpoints for ``HttpWebhook`` triggers. It records what it saw, so tests check what Tether sent.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tether.definition import ConnectorPackage, package_from_files


class EventsApi:
    """A tiny API with a polling trigger, a cursor trigger and webhooks; it records what it saw."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []  # new items since the last 200 answer
        self.polls: list[dict[str, str]] = []
        self.trips: list[dict[str, Any]] = [{"TripId": 1}, {"TripId": 2}]
        self.filters: list[str | None] = []
        self.callbacks: list[str] = []
        self.deleted: list[str] = []
        # HttpWebhook: every call to /plain/{action}, and the status the next unsubscribes get.
        self.plain: list[dict[str, Any]] = []
        self.unsubscribe_status = 200

    def app(self) -> Starlette:
        async def poll(request: Request) -> Response:
            query = dict(request.query_params)
            self.polls.append(query)
            state = int(query.get("triggerState", "0"))
            if "triggerState" not in query or not self.items:
                location = str(request.url.include_query_params(triggerState=state))
                return Response(status_code=202, headers={"Location": location, "Retry-After": "15"})
            batch, self.items = self.items, []
            location = str(request.url.include_query_params(triggerState=state + len(batch)))
            return JSONResponse({"value": batch}, headers={"Location": location, "Retry-After": "15"})

        async def trips(request: Request) -> Response:
            wanted = request.query_params.get("$filter")
            self.filters.append(wanted)
            above = int(wanted.split(" gt ")[1]) if wanted else 0
            found = sorted((t for t in self.trips if t["TripId"] > above), key=lambda t: -t["TripId"])
            return JSONResponse({"value": found})

        async def subscribe(request: Request) -> Response:
            self.callbacks.append((await request.json())["callbackUrl"])
            return Response(status_code=201, headers={"Location": f"{request.base_url}api/hooks/s1"})

        async def unsubscribe(request: Request) -> Response:
            self.deleted.append(request.url.path)
            return Response(status_code=200)

        async def plain(request: Request) -> Response:
            raw = await request.body()
            self.plain.append(
                {
                    "action": request.path_params["action"],
                    "method": request.method,
                    "body": json.loads(raw) if raw else None,
                    "authorization": request.headers.get("authorization"),
                    "key": request.headers.get("x-hook-key"),
                    "query": dict(request.query_params),
                }
            )
            if request.path_params["action"] == "unsubscribe":
                return Response(status_code=self.unsubscribe_status)
            return JSONResponse({"id": "sub-1"}, status_code=201)

        return Starlette(
            routes=[
                Route("/api/items", poll),
                Route("/api/trips", trips),
                Route("/api/hooks", subscribe, methods=["POST"]),
                Route("/api/hooks/{id}", unsubscribe, methods=["DELETE"]),
                Route("/plain/{action}", plain, methods=["POST", "DELETE"]),
            ]
        )

    def plain_calls(self) -> list[tuple[str, str | None]]:
        """HttpWebhook calls seen, as (action, topic of the body)."""
        return [(c["action"], (c["body"] or {}).get("topic")) for c in self.plain]


def events_package(host: str) -> ConnectorPackage:
    """A connector for ``EventsApi`` at ``host`` (``127.0.0.1:port``)."""

    def op(operation_id: str, **extra: Any) -> dict[str, Any]:
        return {"operationId": operation_id, "responses": {"200": {"description": "ok"}}, **extra}

    filter_param = {"name": "$filter", "in": "query", "type": "string"}
    definition = {
        "swagger": "2.0",
        "info": {"title": "Events", "version": "1"},
        "host": host,
        "basePath": "/api",
        "schemes": ["http"],
        "paths": {
            "/items": {"get": op("NewItems", **{"x-ms-trigger": "batch"})},
            "/trips": {"get": op("NewTrips", parameters=[filter_param], **{"x-ms-trigger": "single"})},
            "/hooks": {
                "x-ms-notification-content": {
                    "schema": {"type": "object", "required": ["event"], "properties": {"event": {}}}
                },
                "post": op(
                    "OnEvent",
                    parameters=[{"name": "body", "in": "body", "schema": {"type": "object"}}],
                    **{"x-ms-trigger": "single"},
                ),
            },
            "/hooks/{id}": {
                "delete": op("DeleteHook", parameters=[{"name": "id", "in": "path", "required": True,
                                                        "type": "string"}])
            },
        },
    }  # fmt: skip
    cursor = {
        "templateId": "pollingtrigger",
        "title": "Trips cursor",
        "parameters": {
            "x-ms-apimTemplateParameter.triggerConfig": {
                "$filter": "TripId gt @{triggerBody().value[0].TripId}"
            },
            "x-ms-apimTemplateParameter.triggerDataPath": "@triggerBody().value",
            "x-ms-apimTemplate-operationName": ["NewTrips"],
        },
    }
    properties = {"properties": {"connectionParameters": {}, "policyTemplateInstances": [cursor]}}
    return package_from_files(
        {
            "apiDefinition.swagger.json": json.dumps(definition).encode(),
            "apiProperties.json": json.dumps(properties).encode(),
        }
    )


def http_webhook(
    base_url: str, *, topic: str = "orders", unsubscribe: bool = True, **unsubscribe_extra: Any
) -> dict[str, Any]:
    """An HttpWebhook trigger subscribing to ``EventsApi``'s ``/plain`` endpoints at ``base_url``;
    ``unsubscribe_extra`` adds to its unsubscribe call (``authentication``, ``headers``)."""
    inputs: dict[str, Any] = {
        "subscribe": {
            "method": "POST",
            "uri": f"{base_url}/plain/subscribe",
            "queries": {"v": "1"},
            "body": {"callbackUrl": "@{listCallbackUrl()}", "topic": topic},
            "authentication": {"type": "Basic", "username": "hook", "password": "s3cret"},
        }
    }
    if unsubscribe:
        inputs["unsubscribe"] = {
            "method": "POST",
            "uri": f"{base_url}/plain/unsubscribe",
            "body": {"callbackUrl": "@{listCallbackUrl()}", "topic": topic},
            **unsubscribe_extra,
        }
    return {"type": "HttpWebhook", "inputs": inputs}
