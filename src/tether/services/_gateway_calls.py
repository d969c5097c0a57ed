"""A connection through an on-premises gateway: its secrets sealed on arrival, its calls' auth plan.

Two properties, said plainly:

- **CLI path** (``tether connection create … --gateway``): the CLI fetches the cluster's public
  key and seals every secret value before sending it; the server never sees the plaintext.
- **API path**: a client may send values already sealed (``tg1.…``), with the same property. A
  client that sends plaintext is served too: each secret value is sealed here, on arrival, before
  anything is written, and the plaintext is never stored or logged; but it did pass through this
  process's memory, so that path is only as private as the server while the request is handled.

At call time the server cannot apply the auth scheme (it cannot read the secret), so it sends
the agent an *auth plan*: which scheme, where the key goes, and the sealed values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from tether.definition import Api, ApiProperties, ConnectionParameter
from tether.errors import InputError
from tether.runtime import ConnectionContext, GatewayTarget
from tether.secrets import KeyRing, is_sealed, seal
from tether.services._access import Standing
from tether.services._connection_forms import ParameterSetForm
from tether.services._gateways import find_usable_gateway
from tether.store import Connection, Environment, Gateways

__all__ = ["gateway_context", "gateway_target", "seal_for_gateway"]


def seal_for_gateway(
    session: Session, who: Standing, gateway: str, form: ParameterSetForm, values: Mapping[str, Any]
) -> dict[str, Any]:
    """``values`` with every secret field sealed to ``gateway``'s key (sealed ones are kept as sent)."""
    found = find_usable_gateway(session, who, gateway)
    public_key = found.public_key or ""
    sealed = dict(values)
    for field in form.fields:
        value = sealed.get(field.name)
        if field.secret and value is not None and not is_sealed(value):
            sealed[field.name] = seal(public_key, str(value).encode("utf-8"))
    return sealed


def gateway_context(
    session: Session, env: Environment, row: Connection, api: Api, properties: ApiProperties, keyring: KeyRing
) -> ConnectionContext:
    """The call context of a gateway connection: its values (secrets still sealed) and its target."""
    values: dict[str, Any] = keyring.decrypt_json(row.secret_values) if row.secret_values else {}
    connector = properties.properties
    parameters = (
        connector.connection_parameters_for(row.parameter_set)
        if row.parameter_set
        else (connector.connection_parameters or {})
    )
    target = gateway_target(session, env, row, api, parameters, values)
    return ConnectionContext(connection_id=row.id, parameters=values, gateway=target)


def gateway_target(
    session: Session,
    env: Environment,
    row: Connection,
    api: Api,
    parameters: Mapping[str, ConnectionParameter],
    values: Mapping[str, Any],
) -> GatewayTarget:
    """Where the connection's calls go and the auth plan the agent applies."""
    name = row.gateway or ""
    found = Gateways(session).find(env.id, name)
    if found is None:
        raise InputError(
            f"Connection {row.id!r} goes through gateway {name!r}, which does not exist in environment "
            f"{env.name!r}: create it ('tether gateway create {name}') or update the connection."
        )
    if row.grant is not None:
        raise InputError(
            f"Connection {row.id!r} is an OAuth connection; OAuth through an on-premises gateway is not "
            "supported yet (API key and Basic are)."
        )
    return GatewayTarget(found.id, found.name, auth_plan(api, parameters, values))


def auth_plan(
    api: Api, parameters: Mapping[str, ConnectionParameter], values: Mapping[str, Any]
) -> dict[str, Any]:
    """The auth scheme as data, the same choice ``_static_auth`` makes, values possibly sealed."""
    secrets = [name for name, parameter in parameters.items() if parameter.is_secret and values.get(name)]
    key = values.get("api_key") or (values.get(secrets[0]) if len(secrets) == 1 else None)
    for scheme in api.security_schemes.values():
        basic = scheme.kind == "basic" or (scheme.kind == "http" and (scheme.scheme or "").lower() == "basic")
        if basic and values.get("username") is not None and values.get("password") is not None:
            return {"kind": "basic", "username": str(values["username"]), "password": str(values["password"])}
        bearer = (scheme.kind == "http" and (scheme.scheme or "").lower() == "bearer") or (
            scheme.kind == "apiKey" and scheme.extensions.get("x-tether-bearer") is True
        )
        if bearer and key:
            return {"kind": "bearer", "value": str(key)}
        if scheme.kind == "apiKey" and scheme.param_name and scheme.location in ("header", "query") and key:
            return {"kind": "api_key", "name": scheme.param_name, "in": scheme.location, "value": str(key)}
    return {"kind": "none"}
