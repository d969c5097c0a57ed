"""The portal's route class: sign-in, CSRF and error pages around every portal handler.

Every portal route uses :class:`PortalRoute`, so no handler can forget the CSRF check, and
errors become pages in the portal's layout (never a traceback, never problem+json):
not signed in → the sign-in page; a :class:`~tether.errors.TetherError` → its message with its
status; anything else → a plain 500 page, its detail in the log only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from starlette.responses import Response

from tether.config import Settings
from tether.definition import MAX_UPLOAD_BYTES
from tether.errors import InputTooLarge, TetherError
from tether.portal._session import (
    CSRF_COOKIE,
    CSRF_FIELD,
    CSRF_HEADER,
    NotSignedIn,
    check_csrf,
    new_csrf_seed,
    write_csrf_seed,
)
from tether.portal._templates import render

__all__ = ["SECURITY_HEADERS", "PortalRoute"]

logger = logging.getLogger("tether.portal")

# No inline script or style anywhere: the portal's own JS and CSS are files under /portal-static.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
_UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class PortalRoute(APIRoute):
    """An :class:`APIRoute` whose handler is wrapped with the portal's checks and error pages."""

    def get_route_handler(self) -> Handler:
        inner = super().get_route_handler()

        async def handler(request: Request) -> Response:
            if CSRF_COOKIE not in request.cookies:
                new_csrf_seed(request)  # before rendering: the page's forms carry its token
            try:
                if request.method in _UNSAFE_METHODS:
                    await _check_unsafe_request(request)
                response = await inner(request)
            except NotSignedIn as exc:
                response = _to_sign_in(request, exc)
            except TetherError as exc:
                response = render(
                    request, "error.html", status=exc.status, title=_title(exc.status), message=exc.message
                )
            except Exception:
                logger.exception("portal page %s %s failed", request.method, request.url.path)
                response = render(
                    request,
                    "error.html",
                    status=500,
                    title="Something went wrong",
                    message="The server could not show this page. The details are in the server log; "
                    "try again, and tell your administrator if it keeps happening.",
                )
            _finish(request, response)
            return response

        return handler


async def _check_unsafe_request(request: Request) -> None:
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_UPLOAD_BYTES:
        raise InputTooLarge(
            f"This form is larger than {MAX_UPLOAD_BYTES // 1_000_000} MB: send less.",
            limit="upload_bytes",
            value=int(length),
        )
    submitted = request.headers.get(CSRF_HEADER)
    if submitted is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        submitted = value if isinstance(value, str) else None
    check_csrf(request, submitted)


def _to_sign_in(request: Request, exc: NotSignedIn) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    location = "/login" if target in ("/", "/logout") else f"/login?next={quote(target, safe='')}"
    if request.headers.get("HX-Request"):
        # htmx follows HX-Redirect with a full page load instead of swapping the login page in.
        return Response(status_code=401, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


def _title(status: int) -> str:
    return {
        400: "That did not work",
        401: "Sign in to continue",
        403: "Not allowed",
        404: "Not found",
        409: "Conflict",
        413: "Too large",
        422: "That did not work",
        429: "Too many attempts",
    }.get(status, "Something went wrong")


def _finish(request: Request, response: Response) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    settings: Settings = request.app.state.settings
    write_csrf_seed(request, response, settings)
