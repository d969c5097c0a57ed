"""A connection made ready for one call: its connector compiled, its credentials decrypted, its policy.

Shared by the invoke endpoint, the pass-through route and flows' connector actions, so all three
decide the same way who may use a connection, how its credentials become an ``httpx.Auth`` (the
connection test's own code, reused), which network the call may reach, and what happens when the
API says the credentials no longer work.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.orm import Session

from tether.auth import NoAuth
from tether.definition import PROPERTIES_FILE
from tether.errors import NotFound
from tether.runtime import ConnectionContext, DestinationRefused, NetworkPolicy, Runtime
from tether.runtime.compiled import CompiledConnector, ConnectorCache
from tether.runtime.policies import ConnectionUnauthenticated
from tether.secrets import KeyRing
from tether.services._access import (
    RULES,
    NoLongerShared,
    Principal,
    allows,
    check,
    relation_to,
    standing,
    standing_of_user,
)
from tether.services._builtin_packages import is_builtin
from tether.services._client_secrets import unseal_client_secrets
from tether.services._connection_check import connection_credentials, token_client
from tether.services._connection_parts import AUTHORIZATION_CODE, record
from tether.services._connection_status import (
    ERROR,
    ConnectionNeedsAttention,
    mark_api_rejected,
    mark_working,
    rejection_reason,
)
from tether.services._connector_runner import ConnectorRunner
from tether.services._flows import NO_LONGER_SHARED
from tether.services._gateway_calls import gateway_context
from tether.services._network import network_policy
from tether.services._read_cache import ReadCache
from tether.store import (
    Connection,
    Connections,
    Connector,
    Connectors,
    Database,
    Environment,
    EnvironmentGroupRole,
    EnvironmentMember,
    EnvironmentSetting,
    Gateway,
    Grant,
    Group,
    GroupMember,
    User,
    utcnow,
)

__all__ = [
    "ConnectionNeedsAttention",
    "PreparedCall",
    "check_connector_still_usable",
    "compiled_revision",
    "guarded",
    "prepare_by_id",
    "prepare_call",
    "prepare_for",
]

T = TypeVar("T")


@dataclass(frozen=True)
class PreparedCall:
    """Everything one call needs that came from the database; secrets live only in ``connection``."""

    compiled: CompiledConnector
    connection: ConnectionContext
    network: NetworkPolicy
    environment: str
    connection_id: str
    # Which calls may share a custom-code worker (the connector, its maker and the connection's
    # owner) and whose share of the script slots they take (the maker's): see ScriptPool.run.
    script_isolation: str | None = None
    script_owner: str | None = None
    # The connection's status when prepared, and whether it sends credentials at all: what
    # ``guarded`` needs to tell "the API rejected them" and "they work again" without a query.
    status: str = "connected"
    credentials: bool = False
    # A built-in connector's name (its operations run in process, see ``_builtin_dispatch``) and
    # whom they act for: the caller, or for a flow run the connection's owner.
    builtin: str | None = None
    actor: Principal | None = None


def prepare_for(
    db: Database,
    principal: Principal,
    environment: str | None,
    connection: str,
    *,
    keyring: KeyRing,
    cache: ConnectorCache,
    connector: str | None = None,
    road: Runtime | None = None,
) -> PreparedCall:
    """The call as ``principal``: the connection's owner, or someone it is shared with (Can use).

    Without ``environment`` the connection is found by id in whichever environment holds it
    (the ``/apim`` route has none); ``connector`` (id or name), when given, must be its connector.
    """
    with db.session() as session:
        if environment is None:
            row = Connections(session).get(connection)
            if row is None:
                raise NotFound(f"Connection {connection!r} not found.")
            environment = row.environment_id
        who = standing(session, principal, environment)
        env = who.environment
        row = Connections(session).find(env.id, connection)
        if row is None:
            raise NotFound(f"Connection {connection!r} not found in environment {env.name!r}.")
        label = f"Connection {connection!r}"
        check(session, who, "connection", "invoke", resource_id=row.id, owner_id=row.owner_id, label=label)
        if connector is not None and connector not in (row.connector_id, row.connector.name):
            raise NotFound(f"Connection {connection!r} is not a connection to connector {connector!r}.")
        return _prepare(session, db, row, env, keyring, cache, road, actor=principal)


async def prepare_call(
    db: Database,
    principal: Principal | None,
    environment: str | None,
    connection: str,
    *,
    keyring: KeyRing,
    runtime: ConnectorRunner,
    connector: str | None = None,
) -> PreparedCall:
    """:func:`prepare_for` (or, without a ``principal``, :func:`prepare_by_id` for a flow run), answered
    from ``runtime``'s memory while nothing it read has changed.

    What a call needs (permission, compiled revision, decrypted credentials, network policy)
    changes rarely and costs several queries to read, so it is kept per caller and connection in
    a :class:`ReadCache` over the tables it came from: any change to them made in this process
    applies to the next call, a change made elsewhere within the cache's time to live.
    """
    cache: ReadCache[PreparedCall] = runtime.prepared_calls(db, CALL_TABLES)

    def read() -> tuple[PreparedCall, None]:
        if principal is None:
            by_id = prepare_by_id(db, connection, keyring=keyring, cache=runtime.cache, road=runtime.runtime)
            return by_id, None
        prepared = prepare_for(
            db,
            principal,
            environment,
            connection,
            keyring=keyring,
            cache=runtime.cache,
            connector=connector,
            road=runtime.runtime,
        )
        return prepared, None

    return await cache.read_through((principal, environment, connection, connector), read)


# Every table prepare_for reads: a write to any of them makes its cached answers stale (a revoked
# grant or a group membership removed here applies to this process's very next call).
CALL_TABLES = (
    Grant.__tablename__,
    GroupMember.__tablename__,
    EnvironmentGroupRole.__tablename__,
    Group.__tablename__,
    Connection.__tablename__,
    Gateway.__tablename__,
    EnvironmentSetting.__tablename__,
    Environment.__tablename__,
    EnvironmentMember.__tablename__,
    Connector.__tablename__,
    User.__tablename__,
)


def prepare_by_id(
    db: Database, connection_id: str, *, keyring: KeyRing, cache: ConnectorCache, road: Runtime | None = None
) -> PreparedCall:
    """The call on behalf of the connection's owner (a flow run; who may map it was decided then).

    ``road`` is the runtime whose transport OAuth token requests take (under the environment's
    network policy); without one they go through a runtime made for each request.
    """
    if connection_id.startswith(NO_LONGER_SHARED):
        raise NoLongerShared(
            f"Connection {connection_id.removeprefix(NO_LONGER_SHARED)!r} is no longer shared with this "
            "flow's owner: ask the connection's owner to share it again ('tether connection share'), "
            "or map another connection with 'tether flow update'."
        )
    with db.session() as session:
        row = Connections(session).get(connection_id)
        if row is None:
            raise NotFound(
                f"Connection {connection_id!r} no longer exists: it, or its connector, was deleted "
                "(the audit log says by whom: 'tether admin audit --target connection:<id>'); "
                "map another connection to this flow."
            )
        env = session.get(Environment, row.environment_id)
        if env is None:
            raise NotFound(f"Connection {connection_id!r} no longer exists.")
        return _prepare(session, db, row, env, keyring, cache, road)


def _prepare(
    session: Session,
    db: Database,
    row: Connection,
    env: Environment,
    keyring: KeyRing,
    cache: ConnectorCache,
    road: Runtime | None,
    *,
    actor: Principal | None = None,
) -> PreparedCall:
    check_connector_still_usable(session, row, env)
    if row.grant == AUTHORIZATION_CODE and row.tokens is None:
        raise ConnectionNeedsAttention(
            f"Connection {row.id!r} is waiting for its owner to sign in at the provider: run "
            f"'tether connection update {row.id} --env {env.name} --reconsent' and open the URL."
        )
    connector = row.connector
    compiled = compiled_revision(session, connector, keyring, cache)
    settings = Connections(session).settings(env.id)
    network = network_policy(settings.network_allow if settings else None)
    if row.gateway:
        # Sealed to the gateway cluster's key: the agent applies them, the server cannot.
        context = gateway_context(session, env, row, compiled.api, compiled.properties, keyring)
        credentials = context.gateway is not None and context.gateway.credentials.get("kind") != "none"
    else:
        values, auth = connection_credentials(
            db, row, compiled.api, compiled.properties, keyring, http_client=token_client(road, network)
        )
        context = ConnectionContext(connection_id=row.id, parameters=values, auth=auth)
        credentials = not isinstance(auth, NoAuth)
    return PreparedCall(
        compiled=compiled,
        connection=context,
        network=network,
        environment=env.name,
        connection_id=row.id,
        script_isolation=f"connector:{connector.id}/maker:{connector.created_by}/caller:{row.owner_id}",
        script_owner=f"maker:{connector.created_by}" if connector.created_by else f"connector:{connector.id}",
        status=row.status,
        credentials=credentials,
        builtin=connector.name if is_builtin(connector) else None,
        actor=actor or Principal(row.owner.id, row.owner.username, row.owner.is_admin, f"flow:{row.id}"),
    )


def compiled_revision(
    session: Session, connector: Connector, keyring: KeyRing, cache: ConnectorCache
) -> CompiledConnector:
    """The connector's current revision compiled (from ``cache`` when it already is).

    Every reader of a compiled revision must load it this way: the cache is shared, and the entry
    it keeps carries the unsealed OAuth client secret that token calls need.
    """
    repository = Connectors(session)

    def files() -> dict[str, bytes]:
        revision = repository.revision(connector.id, connector.current_revision)
        if revision is None:
            raise NotFound(f"Connector {connector.name!r} has no revision {connector.current_revision}.")
        files = repository.files(revision)
        if PROPERTIES_FILE in files:  # the OAuth client secret, for token calls
            files[PROPERTIES_FILE] = unseal_client_secrets(files[PROPERTIES_FILE], keyring) or b""
        return files

    return cache.get(connector.id, connector.current_revision, files)


def check_connector_still_usable(session: Session, row: Connection, env: Environment) -> None:
    """The connection's owner must still be allowed to use its connector (grants can be revoked)."""
    owner = standing_of_user(session, env, row.owner_id, is_admin=row.owner.is_admin)
    connector = row.connector
    relation = None
    if owner is not None:
        relation = relation_to(session, owner, "connector", connector.id, connector.created_by)
    if owner is None or not allows(RULES[("connector", "connect")], owner.role, relation):
        raise NoLongerShared(
            f"Connector {connector.name!r} is no longer shared with {row.owner.username!r}, the owner of "
            f"connection {row.id!r}: the connection cannot be used until one of the connector's owners "
            f"shares it again ('tether connector share {connector.name} user:{row.owner.username} "
            f"--permission use --env {env.name}')."
        )


async def guarded(db: Database, call: PreparedCall, send: Callable[[], Awaitable[T]]) -> T:
    """Run ``send()``, turning the runtime's connection-level refusals into what the user must do.

    ``ConnectionUnauthenticated`` (a policy saw the API reject the credentials) marks the
    connection (``needs-consent`` for OAuth sign-ins, else ``error``) before answering;
    ``DestinationRefused`` says which environment setting opens the destination. An answer of 401
    (after the OAuth scheme already renewed the token once) marks the connection ``error`` with the
    API's reason; a successful answer on an ``error`` connection marks it ``connected`` again.
    """
    try:
        result = await send()
    except ConnectionUnauthenticated as exc:
        status = await asyncio.to_thread(_mark_unauthenticated, db, call.connection_id, exc.message)
        raise ConnectionNeedsAttention(
            f"{exc.message} (the connection is now marked '{status}')",
            detail={"connection_id": call.connection_id, "connection_status": status},
        ) from exc
    except DestinationRefused as exc:
        target = exc.address or exc.host
        raise DestinationRefused(
            f"refusing to connect to {exc.host}"
            + (f" ({exc.address})" if exc.address and exc.address != exc.host else "")
            + f": {exc.reason} addresses are blocked by environment '{call.environment}''s network policy. "
            f"An environment admin can allow it: PUT /api/v1/environments/{call.environment}/settings "
            f'with {{"network_allow": ["{target}"]}}',
            host=exc.host,
            address=exc.address,
            reason=exc.reason,
        ) from exc
    await _note_answer(db, call, result)
    return result


async def _note_answer(db: Database, call: PreparedCall, result: object) -> None:
    """Keep the connection's status in step with what the API just said about its credentials."""
    status = getattr(result, "status", None) or getattr(result, "status_code", None)
    if not isinstance(status, int) or not call.credentials:
        return
    if status == 401:
        headers = getattr(result, "headers", None) or {}
        challenge = headers.get("www-authenticate") or headers.get("WWW-Authenticate")
        reason = rejection_reason(status, challenge)
        await asyncio.to_thread(mark_api_rejected, db, call.connection_id, reason)
    elif call.status == ERROR and 200 <= status < 400:
        await asyncio.to_thread(mark_working, db, call.connection_id)


def _mark_unauthenticated(db: Database, connection_id: str, reason: str) -> str:
    with db.session() as session:
        row = Connections(session).get(connection_id, for_update=True)
        if row is None:
            return "deleted"
        row.status = "needs-consent" if row.grant == AUTHORIZATION_CODE else "error"
        row.status_reason = f"The API rejected the connection's credentials: {reason}"
        row.updated_at = utcnow()
        record(session, "connection.unauthenticated", None, row)
        return row.status
