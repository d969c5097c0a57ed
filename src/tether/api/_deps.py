"""Request dependencies: the database and the authenticated caller.

Every route except health depends on :func:`principal`, so an unauthenticated request is
answered 401 before any handler runs; permissions are then checked in the services layer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Header, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBasic, HTTPBasicCredentials, HTTPBearer

from tether import services
from tether.config import Settings
from tether.errors import AuthError
from tether.services import Principal
from tether.store import Database

__all__ = [
    "AppSettings",
    "CurrentPrincipal",
    "Db",
    "IfMatch",
    "PasswordOrToken",
    "check_password",
    "set_etag",
]

_bearer = HTTPBearer(auto_error=False, description="A personal access token (tth_…) from 'tether login'.")
_basic = HTTPBasic(auto_error=False, description="User name and password; only to create a token.")


# The dependencies below only read app state: async, so FastAPI calls them in the event loop
# instead of sending each to a worker thread (a hop per dependency per request).
async def database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


async def settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


Db = Annotated[Database, Depends(database)]
AppSettings = Annotated[Settings, Depends(settings)]


async def principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    """The caller named by the bearer token; 401 without a valid one.

    Async so that a token seen moments ago is answered from memory without a thread hop; a
    token not in the cache is looked up in a worker thread (once, however many requests wait).
    """
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthError(
            "authentication required: send 'Authorization: Bearer <token>' (get one with 'tether login')"
        )
    tokens: services.TokenAuthenticator = request.app.state.tokens
    return await tokens.principal(credentials.credentials)


def check_password(request: Request, db: Database, credentials: HTTPBasicCredentials) -> Principal:
    """A user name and password, throttled per user name and per client address (429 beyond)."""
    return services.authenticate_password(
        db,
        credentials.username,
        credentials.password,
        throttle=getattr(request.app.state, "login_throttle", None),
        address=request.client.host if request.client else None,
    )


def password_or_token(
    request: Request,
    db: Db,
    app_settings: AppSettings,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    basic: Annotated[HTTPBasicCredentials | None, Depends(_basic)],
) -> Principal:
    """A bearer token, or a user name and password (only where a token is being created)."""
    if bearer is not None and bearer.scheme.lower() == "bearer":
        return services.authenticate_token(db, bearer.credentials)
    if basic is not None and not app_settings.local_passwords:
        raise AuthError("Passwords are turned off on this server: sign in with single sign-on at /sso/login.")
    if basic is not None:
        return check_password(request, db, basic)
    raise AuthError("authentication required: send a bearer token, or user name and password (HTTP Basic)")


CurrentPrincipal = Annotated[Principal, Depends(principal)]
# The ETag the client loaded (from GET's ETag header): a save that finds another answers 412.
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description="The ETag you loaded (GET's ETag header). If someone saved since, the answer is 412 "
        "precondition-failed naming who and when, and nothing is overwritten. Leave it out to save anyway.",
    ),
]


def set_etag(response: Response, resource_id: str, updated_at: datetime | None) -> None:
    """Send the resource's current ETag, for the client's next ``If-Match``."""
    response.headers["ETag"] = services.resource_etag(resource_id, updated_at)


PasswordOrToken = Annotated[Principal, Depends(password_or_token)]
