"""The caller and their personal access tokens."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, Field

from tether import services
from tether.api._deps import CurrentPrincipal, Db, PasswordOrToken
from tether.api._paging import Page, paged, paging

router = APIRouter(tags=["account"])


class TokenRequest(BaseModel):
    name: str = Field(
        min_length=1, max_length=100, description="What the token is for, e.g. 'CI on build01'."
    )
    expires_in_days: int | None = Field(
        default=None, ge=1, le=3650, description="Lifetime; none means no expiry."
    )


class UserRequest(BaseModel):
    username: str = Field(description="Lower-case login name.")
    password: str | None = Field(default=None, min_length=8, description="Omit for a token-only user.")
    display_name: str | None = None
    email: str | None = None
    is_admin: bool = False


@router.post("/users", status_code=status.HTTP_201_CREATED, summary="Create a user (platform admins)")
def create_user(body: UserRequest, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    user = services.create_user(
        db,
        principal,
        body.username,
        password=body.password,
        display_name=body.display_name,
        email=body.email,
        is_admin=body.is_admin,
    )
    return asdict(user)


@router.get("/me", summary="Who am I?")
def me(principal: CurrentPrincipal, db: Db) -> dict[str, Any]:
    user = services.get_user(db, principal, principal.username)
    return {
        "id": principal.user_id,
        "username": principal.username,
        "is_admin": principal.is_admin,
        "email": user.email,  # where a flow run by this user sends its answer (tether admin redirect-audit)
    }


@router.post(
    "/tokens",
    status_code=status.HTTP_201_CREATED,
    summary="Create a personal access token",
    description="Authenticate with a token or with HTTP Basic user name and password. The token is in this "
    "answer only: it is stored hashed and can never be shown again.",
)
def create_token(body: TokenRequest, db: Db, principal: PasswordOrToken) -> dict[str, Any]:
    expires_in = timedelta(days=body.expires_in_days) if body.expires_in_days else None
    token, info = services.create_token(db, principal, body.name, expires_in=expires_in)
    return {"token": token, **asdict(info)}


@router.get("/tokens", summary="List your tokens (never their values)")
def list_tokens(db: Db, principal: CurrentPrincipal, page: Page = Depends(paging())) -> dict[str, Any]:
    return paged(services.list_tokens(db, principal), page, asdict)


@router.delete("/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Revoke a token")
def revoke_token(token_id: str, db: Db, principal: CurrentPrincipal) -> None:
    services.revoke_token(db, principal, token_id)
