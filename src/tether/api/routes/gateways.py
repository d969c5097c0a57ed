"""On-premises gateways: clusters, registration tokens, members, agent registration and the agents' tunnel."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends, Request, WebSocket, status
from pydantic import BaseModel, Field
from starlette.websockets import WebSocketDisconnect

from tether import services
from tether.api._deps import CurrentPrincipal, Db
from tether.api._paging import Page, paged, paging
from tether.errors import AuthError, TetherError
from tether.gateway import AgentLink, Hub, encode_frame

router = APIRouter(tags=["gateways"])

AGENT_HEADER = "x-tether-gateway-agent"


class GatewayRequest(BaseModel):
    name: str = Field(description="The gateway cluster's name, unique in the environment.")


class RegistrationRequest(BaseModel):
    token: str = Field(description="The one-time registration token the gateway's owner was given.")
    cluster: str = Field(description="The gateway cluster's name.")
    name: str = Field(description="This agent's name (its machine's, by default).", max_length=200)
    version: str = Field(max_length=32)
    public_key: str | None = Field(default=None, max_length=64)
    wrapped_private_key: str | None = Field(default=None, max_length=1000)


def hub_of(app: Any) -> Hub:
    """The app's gateway relay (one per server process)."""
    hub: Hub = app.state.gateway_hub
    return hub


@router.post("/environments/{env}/gateways", status_code=status.HTTP_201_CREATED, summary="Create a gateway")
def create_gateway(env: str, body: GatewayRequest, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    """A new gateway cluster and its first one-time registration token (shown once)."""
    return asdict(services.create_gateway(db, principal, env, body.name))


@router.get("/environments/{env}/gateways", summary="List gateways")
def list_gateways(
    env: str, db: Db, principal: CurrentPrincipal, page: Page = Depends(paging())
) -> dict[str, Any]:
    return paged(services.list_gateways(db, principal, env), page, asdict)


@router.get("/environments/{env}/gateways/{gateway}", summary="A gateway and its public key")
def get_gateway(env: str, gateway: str, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    """The public key is what a client seals connection secrets to."""
    return asdict(services.gateway_public_key(db, principal, env, gateway))


@router.post(
    "/environments/{env}/gateways/{gateway}/tokens",
    status_code=status.HTTP_201_CREATED,
    summary="Issue a registration token",
)
def issue_token(env: str, gateway: str, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    return asdict(services.issue_registration_token(db, principal, env, gateway))


@router.get("/environments/{env}/gateways/{gateway}/members", summary="A gateway's agents")
def list_members(
    env: str, gateway: str, db: Db, principal: CurrentPrincipal, page: Page = Depends(paging())
) -> dict[str, Any]:
    return paged(services.list_gateway_members(db, principal, env, gateway), page, asdict)


@router.delete(
    "/environments/{env}/gateways/{gateway}/members/{member}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove an agent from its gateway",
)
async def remove_member(
    env: str, gateway: str, member: str, request: Request, db: Db, principal: CurrentPrincipal
) -> None:
    removed = await asyncio.to_thread(services.remove_gateway_member, db, principal, env, gateway, member)
    await hub_of(request.app).kick(removed)


@router.post("/gateway/register", status_code=status.HTTP_201_CREATED, summary="Register a gateway agent")
def register_agent(body: RegistrationRequest, db: Db) -> dict[str, Any]:
    """Spend a registration token (the agent's only credential until it has its own secret)."""
    return asdict(
        services.register_agent(
            db,
            token=body.token,
            cluster=body.cluster,
            name=body.name,
            version=body.version,
            public_key=body.public_key,
            wrapped_private_key=body.wrapped_private_key,
        )
    )


@router.websocket("/gateway/connect")
async def connect(websocket: WebSocket) -> None:
    """An agent's tunnel: authenticated by its member id and secret, then frames until it closes."""
    await websocket.accept()
    try:
        identity, version = await asyncio.to_thread(_authenticate, websocket)
    except TetherError as exc:
        await websocket.send_text(encode_frame("refused", code=exc.code, message=exc.message))
        await websocket.close(code=4003 if isinstance(exc, AuthError) else 4000)
        return
    await websocket.send_text(encode_frame("welcome", member=identity.member_id))
    link = AgentLink(
        member_id=identity.member_id,
        name=identity.name,
        gateway_id=identity.gateway_id,
        version=version,
        send_text=websocket.send_text,
        send_bytes=websocket.send_bytes,
        close=lambda: websocket.close(code=4003, reason="removed from its gateway"),
    )

    async def receive() -> str | bytes | None:
        try:
            message = await websocket.receive()
        except WebSocketDisconnect:
            return None
        if message["type"] == "websocket.disconnect":
            return None
        text: str | None = message.get("text")
        return text if text is not None else message.get("bytes")

    await hub_of(websocket.app).serve(link, receive)


def _authenticate(websocket: WebSocket) -> tuple[services.AgentIdentity, str]:
    version = websocket.headers.get(AGENT_HEADER, "")
    services.check_agent_version(version)
    scheme, _, credentials = websocket.headers.get("authorization", "").partition(" ")
    member_id, _, secret = credentials.partition(":")
    if scheme.lower() != "bearer" or not member_id or not secret:
        raise AuthError("a gateway agent authenticates with 'Authorization: Bearer <member id>:<secret>'")
    database = websocket.app.state.database
    return services.authenticate_agent(database, member_id, secret), version
