"""Browser sessions and CSRF tokens for the portal.

A session is a personal access token with a short lifetime, named :data:`SESSION_TOKEN_NAME`,
kept in an HttpOnly, SameSite=Lax cookie (Secure when the public URL is https). It is checked on
every request exactly like an API token (stored hashed, revocable, cached by
:class:`~tether.services.TokenAuthenticator`), so signing out revokes it everywhere at once.

CSRF: a random, HttpOnly ``tether_csrf`` cookie seeds the token every form and htmx request must
echo (field ``csrf_token`` or header ``X-CSRF-Token``). The token is an HMAC of the seed, so a
page on another site can neither read nor forge it; the seed is rotated at sign-in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from fastapi import Request
from starlette.responses import Response

from tether import services
from tether.config import Settings
from tether.errors import AuthError, PermissionDenied
from tether.services import Principal

__all__ = [
    "CSRF_COOKIE",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "SESSION_LIFETIME",
    "SESSION_TOKEN_NAME",
    "CsrfRefused",
    "NotSignedIn",
    "check_csrf",
    "csrf_token",
    "current_principal",
    "end_session",
    "new_csrf_seed",
    "start_session",
    "write_csrf_seed",
]

SESSION_COOKIE = "tether_session"
CSRF_COOKIE = "tether_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SESSION_LIFETIME = timedelta(hours=12)
SESSION_TOKEN_NAME = "portal sign-in"
_CSRF_CONTEXT = b"tether-portal-csrf-v1"


class NotSignedIn(AuthError):
    """No valid session cookie: the portal answers with the sign-in page."""


class CsrfRefused(PermissionDenied):
    """A state-changing request without the page's CSRF token (HTTP 403)."""

    code = "csrf-refused"


def _secure(settings: Settings) -> bool:
    return settings.public_url.startswith("https://")


def new_csrf_seed(request: Request) -> str:
    """Start a fresh CSRF seed for this request; :func:`write_csrf_seed` sets it as a cookie."""
    seed = secrets.token_urlsafe(32)
    request.state.csrf_seed = seed
    return seed


def write_csrf_seed(request: Request, response: Response, settings: Settings) -> None:
    """Set the seed this request started (if any) as the CSRF cookie of ``response``."""
    seed = getattr(request.state, "csrf_seed", None)
    if seed:
        response.set_cookie(
            CSRF_COOKIE, seed, httponly=True, samesite="lax", secure=_secure(settings), path="/"
        )


def _seed(request: Request) -> str | None:
    seed: str | None = getattr(request.state, "csrf_seed", None) or request.cookies.get(CSRF_COOKIE)
    return seed


def csrf_token(request: Request) -> str:
    """The token this request's forms carry; empty if there is no seed yet (the page sets one)."""
    seed = _seed(request)
    if not seed:
        return ""
    return hmac.new(seed.encode(), _CSRF_CONTEXT, hashlib.sha256).hexdigest()


def check_csrf(request: Request, submitted: str | None) -> None:
    """Refuse a state-changing request whose token is missing or does not match its seed cookie."""
    seed = request.cookies.get(CSRF_COOKIE)
    expected = hmac.new(seed.encode(), _CSRF_CONTEXT, hashlib.sha256).hexdigest() if seed else ""
    if not expected or not submitted or not hmac.compare_digest(expected, submitted):
        raise CsrfRefused(
            "This form was refused because its security token is missing or out of date. "
            "Go back, reload the page and submit it again."
        )


async def current_principal(request: Request) -> Principal:
    """The signed-in user, or :class:`NotSignedIn` (a missing, expired or revoked session)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise NotSignedIn("Sign in to continue.")
    tokens: services.TokenAuthenticator = request.app.state.tokens
    try:
        return await tokens.principal(token)
    except AuthError as exc:
        raise NotSignedIn("Your session has ended: sign in again.") from exc


def start_session(request: Request, response: Response, principal: Principal, settings: Settings) -> None:
    """Issue the session token for ``principal`` as a cookie and rotate the CSRF seed."""
    token, _info = services.create_token(
        request.app.state.database, principal, SESSION_TOKEN_NAME, expires_in=SESSION_LIFETIME
    )
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=_secure(settings),
        path="/",
    )
    new_csrf_seed(request)


def end_session(request: Request, response: Response, principal: Principal) -> None:
    """Revoke the session's token (if it is one) and clear the cookie."""
    via = principal.via or ""
    if via.startswith("token:"):
        services.revoke_token(request.app.state.database, principal, via.removeprefix("token:"))
    response.delete_cookie(SESSION_COOKIE, path="/")
