"""The FastAPI application: routers under ``/api/v1``, problem+json errors, self-hosted docs."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

import tether
from tether import services
from tether.api._access_log import install_access_log_filter
from tether.api._body_limit import UploadBodyLimit
from tether.api._connector_runner import Lifespan, with_connector_runner
from tether.api._docs import install_docs
from tether.api._error_responses import install_error_responses
from tether.api._flow_host import flow_lifespan
from tether.api._gateway_relay import with_gateway_relay
from tether.api._hot_routes import HotRoutes
from tether.api._idempotency import IdempotentCreates
from tether.api._problems import install_problem_handlers
from tether.api._telemetry import install_telemetry
from tether.api.routes import (
    account,
    admin,
    connections,
    connectors,
    consent,
    environments,
    events,
    flows,
    gateways,
    governance,
    health,
    invoke,
    operations,
    organization,
    solutions,
    sso,
    templates,
)
from tether.config import Settings
from tether.gateway import Hub
from tether.portal import install_portal
from tether.store import Database

__all__ = ["API_PREFIX", "create_app"]

API_PREFIX = "/api/v1"


def create_app(settings: Settings, database: Database) -> FastAPI:
    """Build the API around an already migrated ``database``.

    The caller owns the database (``tether serve`` opens, migrates and bootstraps it), so
    tests and embedded uses can share one without the app closing it under them.
    """
    app = FastAPI(
        title="Tether",
        version=tether.__version__,
        summary="Custom connectors: describe, secure, share and run any REST or SOAP API.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=with_wal_emptied_at_stop(with_gateway_relay(with_connector_runner(flow_lifespan))),
    )
    install_access_log_filter()  # before the first request: no code, state or sig in the log
    app.state.settings = settings
    app.state.database = database
    app.state.tokens = services.TokenAuthenticator(database)
    # The agents connected to this process; connector calls through a gateway go to them.
    app.state.gateway_hub = Hub(database)
    # Wrong passwords are throttled per user name and per client address (the login routes).
    app.state.login_throttle = services.LoginThrottle(
        limit=settings.login_failures_per_minute, window=settings.login_throttle_seconds
    )
    # Token renewals of this database's connections, in this process, wait at most this long.
    services.configure_token_refresh(database, services.RefreshPolicy(timeout=settings.oauth_token_timeout))
    install_problem_handlers(app)
    app.add_middleware(IdempotentCreates)  # Idempotency-Key on creates and run starts (inside the cap below)
    app.add_middleware(UploadBodyLimit)  # before multipart parsing spools a hostile body to disk
    # invoke, /apim and the Request trigger's signed URL: answered ahead of the router (see the module)
    app.add_middleware(HotRoutes, routes=[*invoke.hot_routes(API_PREFIX), *flows.hot_routes(API_PREFIX)])
    install_telemetry(app, settings)  # outermost: every answer, a refused upload's too, has its request id
    install_docs(app, openapi_url=app.openapi_url or "")
    install_error_responses(app)  # every operation's problem+json answers, derived in one place
    # The calls that carry traffic first: routes are matched in order, and no other route's path
    # can match theirs, so the busiest requests stop searching soonest.
    app.include_router(invoke.router, prefix=API_PREFIX)
    app.include_router(invoke.apim_router)  # Power Platform's pass-through: /apim/{connector}/{connection}/…
    app.include_router(flows.router, prefix=API_PREFIX)
    for router in (health.router, account.router, environments.router, connectors.router, connections.router):
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(organization.router, prefix=API_PREFIX)
    app.include_router(governance.router, prefix=API_PREFIX)
    app.include_router(operations.router, prefix=API_PREFIX)
    app.include_router(admin.router, prefix=API_PREFIX)
    app.include_router(templates.router, prefix=API_PREFIX)
    app.include_router(solutions.router, prefix=API_PREFIX)
    app.include_router(gateways.router, prefix=API_PREFIX)
    app.include_router(events.router, prefix=API_PREFIX)
    app.include_router(sso.router)  # browser pages at the site root: /sso/login, /sso/callback
    app.include_router(consent.router)  # browser pages at the site root: /consent/{id}, /redirect[/{id}]
    install_portal(app)  # the web portal at the site root: /, /login, /e/{env}/connectors, ...
    return app


def with_wal_emptied_at_stop(inner: Lifespan) -> Lifespan:
    """``inner`` lifespan, then empty a SQLite database's WAL file.

    Done here, not only in ``Database.close``: uvicorn re-raises SIGTERM once its graceful
    shutdown is over, so the code after ``uvicorn.run`` never runs when the server is stopped
    with ``kill``, and the WAL stayed as large as the last load left it.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            async with inner(app):
                yield
        finally:
            database: Database = app.state.database
            with contextlib.suppress(Exception):  # best effort: the database is consistent either way
                await asyncio.to_thread(database.checkpoint_wal, truncate=True, busy_ms=2_000)

    return lifespan
