"""The web portal: server-rendered pages (Jinja2, enhanced with htmx) served by ``tether serve``.

It holds no business rule and checks no permission: each page reads and writes through
:mod:`tether.services` as the signed-in principal. Pages live in ``pages/`` (one module per
area); ``_session`` keeps sign-in and CSRF, ``_routing`` wraps every handler with the CSRF
check, security headers and error pages, ``_templates`` renders in the shared layout.
"""

from __future__ import annotations

from tether.portal._app import install_portal
from tether.portal._deps import AppSettings, Db, Env, Keys, SignedIn, environment_for
from tether.portal._routing import PortalRoute
from tether.portal._session import SESSION_COOKIE, CsrfRefused, NotSignedIn
from tether.portal._templates import render

__all__ = [
    "SESSION_COOKIE",
    "AppSettings",
    "CsrfRefused",
    "Db",
    "Env",
    "Keys",
    "NotSignedIn",
    "PortalRoute",
    "SignedIn",
    "environment_for",
    "install_portal",
    "render",
]
