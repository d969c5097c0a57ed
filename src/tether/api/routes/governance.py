"""Certification (submit, status, review), the catalog (list, show, install) and data policies."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Literal

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, Field

from tether import services
from tether.api._connector_runner import Connectors
from tether.api._deps import CurrentPrincipal, Db
from tether.api._paging import Page, paged, paging
from tether.api.routes.connections import Keys

router = APIRouter(tags=["governance"])


class SubmitRequest(BaseModel):
    connection: str = Field(description="Your connection to this connector: the test call uses it.")
    readme: str = Field(description="readme.md: what the service does, prerequisites, credentials, issues.")
    operation: str | None = Field(
        default=None, description="The safe GET to test with, when the connector declares no testConnection."
    )


class ReviewRequest(BaseModel):
    verdict: Literal["comment", "approve", "reject"]
    comment: str | None = Field(default=None, description="Required to comment or reject: what to change.")


class InstallRequest(BaseModel):
    environment: str = Field(description="Where to install it (you need the maker role there).")
    name: str | None = Field(default=None, description="The connector's name there (default: the entry's).")
    client_id: str | None = Field(default=None, description="Your OAuth app's client id (OAuth connectors).")
    client_secret: str | None = Field(default=None, description="Your OAuth app's client secret.")


class DataPolicyRequest(BaseModel):
    default_group: Literal["business", "non-business", "blocked"] | None = Field(
        default=None, description="The group of connectors nobody classified."
    )
    http_allowed_hosts: list[str] | None = Field(
        default=None, description="Host patterns Http actions may call ('*.example.com'); empty: any."
    )
    http_denied_hosts: list[str] | None = Field(
        default=None, description="Host patterns Http actions may never call (checked first)."
    )


class ClassifyRequest(BaseModel):
    group: Literal["business", "non-business", "blocked"] | None = Field(
        description="The connector's group; null puts it back in the default group."
    )


@router.post(
    "/environments/{env}/connectors/{connector}/certification",
    status_code=status.HTTP_201_CREATED,
    summary="Submit the connector's current revision for certification (automatic checks run first)",
)
async def submit(
    env: str,
    connector: str,
    body: SubmitRequest,
    db: Db,
    principal: CurrentPrincipal,
    keys: Keys,
    connectors: Connectors,
) -> dict[str, Any]:
    info = await services.submit_certification(
        db,
        principal,
        env,
        connector,
        readme=body.readme,
        connection=body.connection,
        keyring=keys,
        operation=body.operation,
        runtime=connectors.runtime,
    )
    return asdict(info)


@router.get(
    "/environments/{env}/connectors/{connector}/certification",
    summary="The connector's certification requests, newest first, with the reviewers' comments",
)
def status_of(
    env: str, connector: str, db: Db, principal: CurrentPrincipal, page: Page = Depends(paging())
) -> dict[str, Any]:
    return paged(services.certification_status(db, principal, env, connector), page, asdict)


@router.get("/certification/requests", summary="The review queue (certifiers)")
def queue(
    db: Db, principal: CurrentPrincipal, state: str | None = "pending", page: Page = Depends(paging())
) -> dict[str, Any]:
    chosen = None if state == "all" else state
    return paged(services.list_certification_requests(db, principal, state=chosen), page, asdict)


@router.get("/certification/requests/{request_id}", summary="One certification request (certifiers)")
def get_request(request_id: str, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    return asdict(services.get_certification_request(db, principal, request_id))


@router.post(
    "/certification/requests/{request_id}/reviews",
    summary="Comment on, approve (publish to the catalog) or reject a request (certifiers)",
)
def review(request_id: str, body: ReviewRequest, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    info = services.review_certification(
        db, principal, request_id, verdict=body.verdict, comment=body.comment
    )
    return asdict(info)


@router.put("/certifiers/{username}", summary="Grant the certifier role (platform admins)")
def grant_certifier(username: str, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    return {"username": username, "certifier": services.set_certifier(db, principal, username, True)}


@router.delete("/certifiers/{username}", summary="Withdraw the certifier role (platform admins)")
def revoke_certifier(username: str, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    return {"username": username, "certifier": services.set_certifier(db, principal, username, False)}


@router.get("/catalog", summary="Certified connectors, visible in every environment")
def list_catalog(db: Db, principal: CurrentPrincipal, page: Page = Depends(paging())) -> dict[str, Any]:
    return paged(services.list_catalog(db, principal), page, asdict)


@router.get("/catalog/{name}", summary="A certified connector: description, readme, operations")
def show_catalog_entry(name: str, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    return asdict(services.get_catalog_entry(db, principal, name))


@router.post(
    "/catalog/{name}/install",
    status_code=status.HTTP_201_CREATED,
    summary="Install a certified connector into an environment (makers there)",
)
def install(
    name: str, body: InstallRequest, db: Db, principal: CurrentPrincipal, keys: Keys
) -> dict[str, Any]:
    info = services.install_catalog_entry(
        db,
        principal,
        name,
        body.environment,
        connector_name=body.name,
        client_id=body.client_id,
        client_secret=body.client_secret,
        keyring=keys,
    )
    return asdict(info)


@router.get("/environments/{env}/data-policy", summary="The environment's data policy (any member)")
def get_policy(env: str, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    return asdict(services.get_data_policy(db, principal, env))


@router.patch(
    "/environments/{env}/data-policy",
    summary="Change the default group or Http host rules (environment admins); suspends flows breaking it",
)
def set_policy(env: str, body: DataPolicyRequest, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    info = services.set_data_policy(
        db,
        principal,
        env,
        default_group=body.default_group,
        http_allowed_hosts=body.http_allowed_hosts,
        http_denied_hosts=body.http_denied_hosts,
    )
    return asdict(info)


@router.put(
    "/environments/{env}/data-policy/connectors/{connector}",
    summary="Classify a connector (environment admins): business, non-business, blocked, or null",
)
def classify(
    env: str, connector: str, body: ClassifyRequest, db: Db, principal: CurrentPrincipal
) -> dict[str, Any]:
    return asdict(services.classify_connector(db, principal, env, connector, body.group))
