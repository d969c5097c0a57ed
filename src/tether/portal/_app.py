"""Install the portal into the API application: its pages at the site root, its assets under
:data:`~tether.portal._templates.STATIC_PREFIX`.

The portal is routes in the same FastAPI app (same process, same port, same ``app.state``:
database, settings, token cache and login throttle), not a mounted sub-application, so a
session token is checked exactly like an API token.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from tether.portal._templates import STATIC_PREFIX
from tether.portal.pages import (
    account,
    admin,
    connections,
    connectors,
    definition,
    events,
    flows,
    runs,
    testing,
    wizard,
)

__all__ = ["install_portal"]

# Page routers in order.
# The wizard's routes (/connectors/new, /connectors/import) come before /connectors/{connector}.
PAGE_ROUTERS = [
    account.router,
    wizard.router,
    definition.router,
    testing.router,
    connectors.router,
    connections.router,
    flows.router,
    runs.router,
    events.router,
    admin.router,
]


def install_portal(app: FastAPI) -> None:
    """Add the portal's pages and static assets to ``app`` (call after the API's routers)."""
    app.mount(STATIC_PREFIX, StaticFiles(packages=[("tether.portal", "static")]), name="portal-static")
    for router in PAGE_ROUTERS:
        app.include_router(router)
