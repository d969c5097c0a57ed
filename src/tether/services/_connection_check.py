"""Test a connection: one safe call to the API with the connection's credentials.

The connector says how (``x-ms-capabilities.testConnection``: an operationId and fixed
parameters); otherwise the user names a GET operation or path. This is one GET against the
definition's host/basePath carrying the connection's auth scheme, sent on the runtime's transport
like every other call: the environment's network policy, the deadline, redirects that keep
credentials on their origin (policies and custom code are not run: the test is of the
credentials). Nothing the call returns is echoed beyond the status, and the URL shown carries no
query string (an API key may be there).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote

import httpx

from tether.auth import ApiKeyAuth, BasicAuth, BearerAuth, NoAuth, OAuth2Auth
from tether.definition import Api, ApiProperties, ConnectionParameter
from tether.errors import InputError
from tether.runtime import (
    DEADLINE_EXTENSION,
    ConnectionContext,
    DestinationRefused,
    NetworkPolicy,
    Runtime,
    UpstreamError,
    road_client,
)
from tether.secrets import KeyRing
from tether.services._access import Principal, resolve_environment
from tether.services._connection_parts import (
    connector_definition,
    connector_properties,
    find_connection,
)
from tether.services._connection_status import mark_api_rejected, mark_working, rejection_reason
from tether.services._connection_tokens import ConnectionTokenSource
from tether.services._events import Subject, record_event
from tether.services._gateway_calls import gateway_context
from tether.services._network import network_policy
from tether.store import Connection, Connections, Database

__all__ = ["ConnectionTest", "test_connection", "token_client"]

# A test answers while the user waits: shorter than an operation call's deadline.
_DEADLINE: Final = 30.0


@dataclass(frozen=True, slots=True)
class ConnectionTest:
    """The outcome of a test call: ``ok`` for a 2xx answer, else ``message`` says what went wrong."""

    ok: bool
    status_code: int | None
    method: str
    url: str
    operation: str | None
    message: str


@dataclass(frozen=True, slots=True)
class _Plan:
    url: str
    query: dict[str, Any]
    operation: str | None
    connection: ConnectionContext
    network: NetworkPolicy
    environment: str


async def test_connection(
    db: Database,
    principal: Principal,
    environment: str,
    connection: str,
    *,
    keyring: KeyRing,
    operation: str | None = None,
    path: str | None = None,
    runtime: Runtime | None = None,
) -> ConnectionTest:
    """Call the connector's test operation (or ``operation``/``path``, a GET) as the connection's owner.

    ``runtime`` is the process's (its pool); without one a runtime is made for this call.
    """
    plan = await asyncio.to_thread(
        _plan, db, principal, environment, connection, keyring, operation, path, runtime
    )
    if runtime is None:
        async with Runtime(deadline=_DEADLINE) as own:
            return await _send(own, plan, db)
    return await _send(runtime, plan, db)


async def _send(runtime: Runtime, plan: _Plan, db: Database) -> ConnectionTest:
    shown = plan.url
    request = httpx.Request("GET", plan.url, params=plan.query)
    try:
        request.extensions[DEADLINE_EXTENSION] = time.monotonic() + min(_DEADLINE, runtime.deadline)
        response = await runtime.transport(plan.network).send(request, plan.connection)
        await response.aclose()  # only the status matters; the body is never read or echoed
    except DestinationRefused as exc:
        target = exc.address or exc.host
        message = (
            f"refusing to connect to {exc.host}: {exc.reason} addresses are blocked by environment "
            f"'{plan.environment}''s network policy. An environment admin can allow it: PUT "
            f'/api/v1/environments/{plan.environment}/settings with {{"network_allow": ["{target}"]}}'
        )
        await asyncio.to_thread(_record_failure, db, plan, message, None)
        return ConnectionTest(False, None, "GET", shown, plan.operation, message)
    except UpstreamError as exc:
        message = f"cannot reach the API ({exc.message})"
        await asyncio.to_thread(_record_failure, db, plan, message, None)
        return ConnectionTest(False, None, "GET", shown, plan.operation, message)
    ok = response.is_success
    await _note_outcome(db, plan.connection.connection_id, response)
    if ok:
        message = "the API accepted the connection's credentials"
    elif response.status_code in (401, 403):
        message = f"the API refused the connection's credentials ({response.status_code})"
    else:
        message = f"the API answered {response.status_code} {response.reason_phrase}"
    if not ok:
        await asyncio.to_thread(_record_failure, db, plan, message, response.status_code)
    return ConnectionTest(ok, response.status_code, "GET", shown, plan.operation, message)


def _record_failure(db: Database, plan: _Plan, message: str, status: int | None) -> None:
    """A failed test is an event of the connection (its owner and alert rules hear of it)."""
    with db.session() as session:
        row = Connections(session).get(plan.connection.connection_id)
        if row is None:
            return
        subject = Subject("connection", row.id, row.display_name, row.owner_id)
        data = {"error": message[:500], "status": status, "operation": plan.operation}
        record_event(session, "connection.test_failed", row.environment_id, subject, data=data)


async def _note_outcome(db: Database, connection_id: str, response: httpx.Response) -> None:
    """The test call is the owner's way to check a fix: its answer updates the connection's status."""
    if response.status_code == 401:
        reason = rejection_reason(401, response.headers.get("www-authenticate"))
        await asyncio.to_thread(mark_api_rejected, db, connection_id, reason)
    elif response.is_success:
        await asyncio.to_thread(mark_working, db, connection_id)


# pytest would collect a module-level function named test_*; this one is a service, not a test.
test_connection.__test__ = False  # type: ignore[attr-defined]


def _plan(
    db: Database,
    principal: Principal,
    environment: str,
    connection: str,
    keyring: KeyRing,
    operation: str | None,
    path: str | None,
    runtime: Runtime | None,
) -> _Plan:
    with db.session() as session:
        env, role = resolve_environment(session, principal, environment)
        row = find_connection(session, principal, env, role, connection, owner_only=True)
        api = connector_definition(session, row.connector)
        props = connector_properties(session, row.connector, keyring)
        settings = Connections(session).settings(env.id)
        network = network_policy(settings.network_allow if settings else None)
        if row.gateway:  # the test call goes through the gateway too, secrets still sealed
            context = gateway_context(session, env, row, api, props, keyring)
        else:
            values, auth = connection_credentials(
                db, row, api, props, keyring, http_client=token_client(runtime, network)
            )
            context = ConnectionContext(connection_id=row.id, parameters=values, auth=auth)
        base = _base_url(api)
        target, query, op_id = _target(api, operation, path)
        return _Plan(base + target, query, op_id, context, network, env.name)


def _base_url(api: Api) -> str:
    server = next((s.url for s in api.servers if s.url.startswith(("http://", "https://"))), None)
    if server is None:
        raise InputError(
            "The connector's definition has no absolute host (it is set per connection by a policy); "
            "test it by calling an action instead."
        )
    return server.rstrip("/")


def _target(api: Api, operation: str | None, path: str | None) -> tuple[str, dict[str, Any], str | None]:
    if path is not None:
        return "/" + path.lstrip("/"), {}, None
    capability = (api.extensions.get("x-ms-capabilities") or {}).get("testConnection")
    fixed: dict[str, Any] = {}
    if operation is None and isinstance(capability, dict) and capability.get("operationId"):
        operation = str(capability["operationId"])
        fixed = dict(capability.get("parameters") or {})
    if operation is None:
        candidates = [
            op.operation_id
            for op in api.operations
            if op.method.lower() == "get" and not any(p.required for p in op.parameters)
        ]
        raise InputError(
            "The connector declares no test operation; pick a safe GET with --operation "
            f"(candidates: {', '.join(candidates[:10]) or 'none'}) or --path.",
            detail={"candidates": candidates},
        )
    op = api.operation(operation)
    if op.method.lower() != "get":
        raise InputError(f"Operation {operation!r} is a {op.method.upper()}; a test must be a safe GET.")
    url, query = op.path, {}
    for parameter in op.parameters:
        value = fixed.get(parameter.name)
        if value is None:
            continue
        if parameter.location == "path":
            url = url.replace("{" + parameter.name + "}", quote(str(value), safe=""))
        elif parameter.location == "query":
            query[parameter.name] = value
    return url, query, operation


def token_client(runtime: Runtime | None, network: NetworkPolicy) -> httpx.AsyncClient:
    """The client OAuth token requests take: the runtime's road under the environment's policy."""
    return road_client(network, runtime)


def connection_credentials(
    db: Database,
    row: Connection,
    api: Api,
    properties: ApiProperties,
    keyring: KeyRing,
    *,
    http_client: httpx.AsyncClient,
) -> tuple[dict[str, Any], httpx.Auth]:
    """A connection's parameter values, decrypted for this call only, and the auth that applies them.

    Shared by the connection test, the invoke endpoint, the pass-through and flows, so every way
    of calling a connector authenticates the same way. ``http_client`` carries the token
    requests of an OAuth connection (see :func:`token_client`).
    """
    values: dict[str, Any] = keyring.decrypt_json(row.secret_values) if row.secret_values else {}
    if row.grant is not None:
        return values, OAuth2Auth(ConnectionTokenSource(db, row.id, keyring=keyring, http_client=http_client))
    parameters = (
        properties.properties.connection_parameters_for(row.parameter_set)
        if row.parameter_set
        else (properties.properties.connection_parameters or {})
    )
    return values, _static_auth(api, parameters, values)


def _static_auth(api: Api, parameters: dict[str, ConnectionParameter], values: dict[str, Any]) -> httpx.Auth:
    """The auth scheme for a non-OAuth connection, from the definition's security schemes.

    Power Platform's conventions: Basic uses the ``username``/``password`` parameters, an API key
    the ``api_key`` parameter (else the connection's only secure string). A bearer token (OpenAPI
    ``http``/``bearer``, or an ``Authorization`` API key marked ``x-tether-bearer`` by the Postman
    importer) is the same ``api_key`` value, sent as ``Authorization: Bearer <value>``.
    """
    # Basic first, whatever the schemes' order: in a multi-auth connector's Basic parameter set the
    # password is the only secure string, and the API-key rule below would send it as the key.
    if values.get("username") is not None and values.get("password") is not None:
        for scheme in api.security_schemes.values():
            if scheme.kind == "basic" or (scheme.kind == "http" and (scheme.scheme or "").lower() == "basic"):
                return BasicAuth(str(values["username"]), str(values["password"]))
    secrets = [name for name, parameter in parameters.items() if parameter.is_secret and values.get(name)]
    key = values.get("api_key") or (values.get(secrets[0]) if len(secrets) == 1 else None)
    for scheme in api.security_schemes.values():
        bearer = (scheme.kind == "http" and (scheme.scheme or "").lower() == "bearer") or (
            scheme.kind == "apiKey" and scheme.extensions.get("x-tether-bearer") is True
        )
        if bearer and key:
            return BearerAuth(_without_bearer_prefix(str(key)))
        if scheme.kind == "apiKey" and scheme.param_name and scheme.location in ("header", "query") and key:
            return ApiKeyAuth(scheme.param_name, scheme.location, str(key))
    return NoAuth()


def _without_bearer_prefix(value: str) -> str:
    # Power Platform users are told to type "Bearer <token>" into an API key box; accept both.
    head, _, rest = value.strip().partition(" ")
    return rest.strip() if head.lower() == "bearer" and rest.strip() else value.strip()
