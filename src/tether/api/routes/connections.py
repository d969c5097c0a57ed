"""Connections: the form to fill, create, list, show, update, delete and test; environment
settings (the OAuth redirect enforcement date); a connector's redirect mode; key rotation.

Answers never hold a secret: a connection says which parameters are set, not their values.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status
from pydantic import BaseModel, Field

from tether import services
from tether.api._connector_runner import Connectors
from tether.api._deps import AppSettings, CurrentPrincipal, Db, IfMatch, set_etag
from tether.api._paging import Page, paged, paging
from tether.secrets import KeyRing

__all__ = ["Keys", "keyring", "router"]

router = APIRouter(tags=["connections"])


async def keyring(request: Request) -> KeyRing:
    """The process's key ring, made once from the settings (keys load on first use)."""
    state = request.app.state
    if getattr(state, "keyring", None) is None:
        state.keyring = KeyRing.from_settings(state.settings)
    ring: KeyRing = state.keyring
    return ring


Keys = Annotated[KeyRing, Depends(keyring)]


class ConnectionRequest(BaseModel):
    connector: str = Field(description="The connector's id or name.")
    parameters: dict[str, Any] = Field(default_factory=dict, description="Values by parameter name.")
    parameter_set: str | None = Field(default=None, description="Multi-auth: which way to connect.")
    display_name: str | None = None


class ConnectionUpdate(BaseModel):
    parameters: dict[str, Any] | None = Field(default=None, description="Values to replace.")
    display_name: str | None = None
    reconsent: bool = Field(default=False, description="Start a new OAuth sign-in.")


class TestRequest(BaseModel):
    operation: str | None = Field(default=None, description="A GET operationId to call.")
    path: str | None = Field(default=None, description="A path (under the API's base URL) to GET.")


class SettingsRequest(BaseModel):
    """Settings to change; those left out keep their values."""

    oauth_global_redirect_enforcement: date | None = Field(
        default=None,
        description="From this day (UTC) on, connectors on the Global redirect URI refuse new connections.",
    )
    network_allow: list[str] | None = Field(
        default=None,
        description="Hosts ('api.corp', '*.corp') and addresses or CIDRs ('127.0.0.1', '10.0.0.0/8') the "
        "environment's connectors may reach although the network policy refuses them by default.",
    )
    encrypt_run_data: bool | None = Field(
        default=None,
        description="Encrypt flow runs' inputs and outputs at rest with the server's key ring "
        "(runs started from now on; reading run history decrypts them).",
    )
    audit_retention_days: int | None = Field(
        default=None, description="Days the audit log keeps this environment's events (null: 365)."
    )
    agent_connectors: list[str] | None = Field(
        default=None,
        description="Names of the connectors AI agents (MCP) may use in this environment (null: all).",
    )


class RedirectModeRequest(BaseModel):
    redirect_mode: str = Field(description="Global, GlobalPerConnector or Direct.")


@router.get(
    "/environments/{env}/connectors/{connector}/connection-form",
    summary="The parameters a connection to this connector needs",
)
def connection_form(
    env: str, connector: str, db: Db, principal: CurrentPrincipal, settings: AppSettings
) -> dict[str, Any]:
    form = services.connection_form(db, principal, env, connector, public_url=settings.public_url)
    return asdict(form)


@router.post(
    "/environments/{env}/connections", status_code=status.HTTP_201_CREATED, summary="Create a connection"
)
def create_connection(
    env: str, body: ConnectionRequest, db: Db, principal: CurrentPrincipal, settings: AppSettings, keys: Keys
) -> dict[str, Any]:
    info = services.create_connection(
        db,
        principal,
        env,
        body.connector,
        body.parameters,
        keyring=keys,
        public_url=settings.public_url,
        parameter_set=body.parameter_set,
        display_name=body.display_name,
    )
    return asdict(info)


@router.get("/environments/{env}/connections", summary="List your connections (admins: everyone's)")
def list_connections(
    env: str, db: Db, principal: CurrentPrincipal, page: Page = Depends(paging())
) -> dict[str, Any]:
    return paged(services.list_connections(db, principal, env), page, asdict)


@router.get("/environments/{env}/connections/{connection}", summary="Get a connection")
def get_connection(
    env: str, connection: str, db: Db, principal: CurrentPrincipal, response: Response
) -> dict[str, Any]:
    info = services.get_connection(db, principal, env, connection)
    set_etag(response, info.id, info.updated_at)
    return asdict(info)


@router.patch("/environments/{env}/connections/{connection}", summary="Update a connection")
def update_connection(
    env: str,
    connection: str,
    body: ConnectionUpdate,
    db: Db,
    principal: CurrentPrincipal,
    settings: AppSettings,
    keys: Keys,
    response: Response,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    info = services.update_connection(
        db,
        principal,
        env,
        connection,
        keyring=keys,
        public_url=settings.public_url,
        values=body.parameters,
        display_name=body.display_name,
        reconsent=body.reconsent,
        if_match=if_match,
    )
    set_etag(response, info.id, info.updated_at)
    return asdict(info)


@router.delete(
    "/environments/{env}/connections/{connection}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a connection",
)
def delete_connection(
    env: str, connection: str, db: Db, principal: CurrentPrincipal, if_match: IfMatch = None
) -> None:
    services.delete_connection(db, principal, env, connection, if_match=if_match)


@router.post("/environments/{env}/connections/{connection}/test", summary="Test a connection with one GET")
async def test_connection(
    env: str,
    connection: str,
    db: Db,
    principal: CurrentPrincipal,
    keys: Keys,
    connectors: Connectors,
    body: TestRequest | None = None,
) -> dict[str, Any]:
    body = body or TestRequest()
    result = await services.test_connection(
        db,
        principal,
        env,
        connection,
        keyring=keys,
        operation=body.operation,
        path=body.path,
        runtime=connectors.runtime,
    )
    return asdict(result)


@router.get("/environments/{env}/settings", summary="Get an environment's settings")
def get_settings(env: str, db: Db, principal: CurrentPrincipal, response: Response) -> dict[str, Any]:
    found = services.get_environment_settings(db, principal, env)
    return _settings_answer(found, response)


@router.put("/environments/{env}/settings", summary="Change an environment's settings (environment admins)")
def put_settings(
    env: str,
    body: SettingsRequest,
    db: Db,
    principal: CurrentPrincipal,
    response: Response,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    given = {name: getattr(body, name) for name in body.model_fields_set}
    found = services.set_environment_settings(db, principal, env, if_match=if_match, **given)
    return _settings_answer(found, response)


def _settings_answer(found: services.EnvironmentSettingsInfo, response: Response) -> dict[str, Any]:
    """The settings, their version in the ETag header (the body keeps its shape from before ETags)."""
    response.headers["ETag"] = found.etag
    answer = asdict(found)
    del answer["etag"], answer["updated_at"]
    return answer


@router.put(
    "/environments/{env}/connectors/{connector}/redirect-mode",
    summary="Switch a connector's OAuth redirect mode (adds a revision)",
)
def put_redirect_mode(
    env: str,
    connector: str,
    body: RedirectModeRequest,
    db: Db,
    principal: CurrentPrincipal,
    settings: AppSettings,
) -> dict[str, Any]:
    switch = services.set_redirect_mode(
        db, principal, env, connector, body.redirect_mode, public_url=settings.public_url
    )
    return asdict(switch)


@router.post("/admin/rotate-key", summary="Rotate the encryption key and re-encrypt every secret (admins)")
def rotate_key(db: Db, principal: CurrentPrincipal, keys: Keys) -> dict[str, Any]:
    return asdict(services.rotate_keys(db, principal, keys))
