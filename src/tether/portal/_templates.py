"""Jinja2 pages: one environment for the package's templates, and the context every page gets.

Autoescaping is on for every template, so values from connectors and users are text, never markup.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

import tether
from tether.portal._session import CSRF_FIELD, CSRF_HEADER, csrf_token
from tether.portal._stale import ETAG_FIELD

__all__ = ["STATIC_PREFIX", "render", "templates"]

STATIC_PREFIX = "/portal-static"


def _static(path: str) -> str:
    # The version in the query string busts browser caches on upgrade.
    return f"{STATIC_PREFIX}/{path}?v={tether.__version__}"


def _pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, default=str)


@cache
def templates() -> Environment:
    """The portal's Jinja2 environment (built once; templates are cached by Jinja)."""
    environment = Environment(
        loader=PackageLoader("tether.portal", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals.update(
        static=_static, csrf_field=CSRF_FIELD, csrf_header=CSRF_HEADER, etag_field=ETAG_FIELD
    )
    environment.filters["pretty_json"] = _pretty_json
    return environment


def render(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    """Render ``template`` with the signed-in user, the current environment and the CSRF token."""
    token = csrf_token(request)
    page = (
        templates()
        .get_template(template)
        .render(
            request=request,
            principal=getattr(request.state, "principal", None),
            env=context.pop("env", None) or getattr(request.state, "env", None),
            csrf=token,
            hx_headers=json.dumps({CSRF_HEADER: token}),
            **context,
        )
    )
    return HTMLResponse(page, status_code=status)
