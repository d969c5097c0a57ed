"""What portal handlers depend on: the signed-in principal, the database, settings, keys and
the environment a page is about.

The portal checks no permission itself: it only knows *who* is asking (from the session) and
passes that principal to :mod:`tether.services`, which decides.
"""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import Depends, Request

from tether import services
from tether.config import Settings
from tether.portal._session import current_principal
from tether.runtime import RateLimit
from tether.secrets import KeyRing
from tether.services import EnvironmentInfo, Principal
from tether.store import Database

__all__ = ["AppSettings", "Db", "Env", "Keys", "Runtime", "SignedIn", "environment_for"]


async def _database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _keyring(request: Request) -> KeyRing:
    # The same lazily made ring the API uses (app.state.keyring), so both share loaded keys.
    state = request.app.state
    if getattr(state, "keyring", None) is None:
        state.keyring = KeyRing.from_settings(state.settings)
    ring: KeyRing = state.keyring
    return ring


async def _signed_in(request: Request) -> Principal:
    principal = await current_principal(request)
    request.state.principal = principal  # for the layout: user menu, admin link
    return principal


Db = Annotated[Database, Depends(_database)]
AppSettings = Annotated[Settings, Depends(_settings)]
Keys = Annotated[KeyRing, Depends(_keyring)]
SignedIn = Annotated[Principal, Depends(_signed_in)]


def environment_for(request: Request, db: Database, principal: Principal, env: str) -> EnvironmentInfo:
    """The environment named in the URL (``NotFound`` for non-members), remembered for the layout."""
    info = services.get_environment(db, principal, env)
    request.state.env = info
    request.state.environments = services.list_environments(db, principal)
    return info


def _env(request: Request, env: str, db: Db, principal: SignedIn) -> EnvironmentInfo:
    return environment_for(request, db, principal, env)


Env = Annotated[EnvironmentInfo, Depends(_env)]


_runtime_lock = threading.Lock()


async def _runtime(request: Request) -> services.ConnectorRunner:
    """The app's connector runtime (made on first use, as the API's invoke route makes it, in the
    same ``app.state`` slot, so portal test calls and API calls share one runtime and its pool)."""
    state = request.app.state
    found: services.ConnectorRunner | None = getattr(state, "connector_runner", None)
    if found is None:
        with _runtime_lock:
            found = getattr(state, "connector_runner", None)
            if found is None:
                per_minute = state.settings.connection_rate_limit
                found = services.ConnectorRunner(
                    rate_limit=RateLimit(per_minute) if per_minute else None,
                    deadline=state.settings.upstream_deadline,
                )
                state.connector_runner = found
                state.connector_runner_owned = True  # the API's lifespan closes it at shutdown
    return found


Runtime = Annotated[services.ConnectorRunner, Depends(_runtime)]
