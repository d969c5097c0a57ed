"""Shared internals of the connection services: result types, connector reading, OAuth settings.

Kept apart from the use cases so connections, consent, token refresh and key rotation read a
connector's apiProperties, pick its redirect URI and sign consent states in exactly one way.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy.orm import Session

from tether.auth import StateSigner, normalize_redirect_mode, redirect_uri
from tether.definition import (
    DEFINITION_FILE,
    PROPERTIES_FILE,
    Api,
    ApiProperties,
    OAuthSettings,
    compile_api,
    is_placeholder_client_id,
    parse_api_properties,
    parse_document,
)
from tether.errors import InputError, NotFound, PermissionDenied
from tether.secrets import KeyRing
from tether.services._access import Principal, has_role
from tether.services._builtin_packages import find_connector_row
from tether.services._client_secrets import unseal_client_secrets
from tether.services._connection_forms import (
    CLIENT_ID_SUFFIX,
    CLIENT_SECRET_SUFFIX,
    ParameterSetForm,
    build_connection_form,
)
from tether.services._events import Subject, record_event
from tether.store import AuditLog, Connection, Connections, Connector, Connectors, Environment

__all__ = [
    "AUTHORIZATION_CODE",
    "CLIENT_CREDENTIALS",
    "CONSENT_TTL",
    "ConnectionInfo",
    "connection_info",
    "connection_oauth",
    "connector_definition",
    "connector_properties",
    "find_connection",
    "find_connector",
    "forms_of",
    "grant_of",
    "oauth_settings_for",
    "pick_form",
    "record",
    "redirect_mode_of",
    "redirect_url_for",
    "state_signers",
]

AUTHORIZATION_CODE: Final = "authorization_code"
CLIENT_CREDENTIALS: Final = "client_credentials"
# How long a user has between starting a consent and coming back from the provider.
CONSENT_TTL: Final = timedelta(minutes=10)
_STATE_KEY: Final = "oauth-state-key"


@dataclass(frozen=True, slots=True)
class ConnectionInfo:
    """A connection as its owner (or an environment admin) sees it: never a secret value.

    ``parameters`` names the parameters that were given; ``consent_url`` is set when the
    connection waits for its owner to sign in at the provider (open it in a browser). ``fix`` says
    what to do when ``status`` is not ``connected`` (the command and the API route).
    """

    id: str
    environment: str
    connector_id: str
    connector: str
    display_name: str
    owner: str
    parameter_set: str | None
    status: str
    status_reason: str | None
    parameters: tuple[str, ...]
    grant: str | None
    gateway: str | None
    token_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime
    consent_url: str | None = None
    fix: str | None = None


def connection_info(
    row: Connection, environment: Environment, consent_url: str | None = None
) -> ConnectionInfo:
    return ConnectionInfo(
        id=row.id,
        environment=environment.name,
        connector_id=row.connector_id,
        connector=row.connector.name,
        display_name=row.display_name,
        owner=row.owner.username,
        parameter_set=row.parameter_set,
        status=row.status,
        status_reason=row.status_reason,
        parameters=tuple(row.parameter_names or ()),
        grant=row.grant,
        gateway=row.gateway,
        token_expires_at=row.token_expires_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        consent_url=consent_url,
        fix=_fix(row, environment.name),
    )


def _fix(row: Connection, environment: str) -> str | None:
    # Imported here: the status module builds on this one (its record() and grant names).
    from tether.services._connection_status import fix_for

    return fix_for(row, environment)


def find_connector(session: Session, environment: Environment, connector: str) -> Connector:
    found = find_connector_row(session, environment, connector)
    if found is None:
        raise NotFound(f"Connector {connector!r} not found in environment {environment.name!r}.")
    return found


def _current_file(session: Session, connector: Connector, name: str) -> bytes | None:
    connectors = Connectors(session)
    revision = connectors.revision(connector.id, connector.current_revision)
    if revision is None:
        return None
    return next((bytes(f.content) for f in revision.files if f.name == name), None)


def connector_properties(
    session: Session, connector: Connector, keyring: KeyRing | None = None
) -> ApiProperties:
    """The current revision's apiProperties (an empty one when the package has none); with
    ``keyring``, its OAuth client secrets decrypted (consent and token calls need them)."""
    raw = unseal_client_secrets(_current_file(session, connector, PROPERTIES_FILE), keyring)
    source = f"{connector.name}/{PROPERTIES_FILE}"
    data = parse_document(raw, name=source, format="json").data if raw else {"properties": {}}
    return parse_api_properties(data, name=source)


def connector_definition(session: Session, connector: Connector) -> Api:
    raw = _current_file(session, connector, DEFINITION_FILE)
    if raw is None:
        raise InputError(f"Connector {connector.name!r} has no API definition to call.")
    source = f"{connector.name}/{DEFINITION_FILE}"
    return compile_api(parse_document(raw, name=source).data, name=source)


def find_connection(
    session: Session,
    principal: Principal,
    environment: Environment,
    role: str,
    connection: str,
    *,
    owner_only: bool = False,
    for_update: bool = False,
) -> Connection:
    """The connection if the caller may see it; someone else's is "not found" (ids are not probed).

    ``owner_only`` lets admins see it but not act with it: credentials are personal.
    """
    row = Connections(session).find(environment.id, connection, for_update=for_update)
    mine = row is not None and row.owner_id == principal.user_id
    if row is None or not (mine or has_role(role, "admin")):
        raise NotFound(f"Connection {connection!r} not found in environment {environment.name!r}.")
    if owner_only and not mine:
        raise PermissionDenied(
            "Only the connection's owner can use or change it; admins may view or delete it."
        )
    return row


def pick_form(forms: tuple[ParameterSetForm, ...], parameter_set: str | None) -> ParameterSetForm:
    """The form for ``parameter_set``; without one, the only form (multi-auth needs a choice)."""
    names = [form.name for form in forms if form.name]
    if parameter_set is None:
        if len(forms) == 1:
            return forms[0]
        raise InputError(
            "This connector offers several ways to connect; choose one with a parameter set: "
            + ", ".join(names),
            detail={"choices": names},
        )
    for form in forms:
        if form.name == parameter_set:
            return form
    raise InputError(
        f"Unknown parameter set {parameter_set!r}; choices: {', '.join(names) or 'none'}",
        detail={"choices": names},
    )


def oauth_settings_for(
    properties: ApiProperties, form: ParameterSetForm, values: dict[str, Any]
) -> OAuthSettings | None:
    """The form's OAuth settings, with the client id/secret the user brought filled in."""
    field = form.oauth_field
    if field is None:
        return None
    props = properties.properties
    parameters = props.connection_parameters_for(form.name) if form.name else props.connection_parameters
    parameter = (parameters or {}).get(field.name)
    settings = parameter.oauth_settings() if parameter is not None else None
    if settings is None:
        return None
    updates: dict[str, Any] = {}
    if values.get(field.name + CLIENT_ID_SUFFIX):
        updates["client_id"] = values[field.name + CLIENT_ID_SUFFIX]
    if values.get(field.name + CLIENT_SECRET_SUFFIX):
        updates["client_secret"] = values[field.name + CLIENT_SECRET_SUFFIX]
    settings = settings.model_copy(update=updates) if updates else settings
    if is_placeholder_client_id(settings.client_id):
        # Never start a consent (or a token request) with "<Enter Your Client ID>".
        raise InputError(
            f"the connector's OAuth client id {settings.client_id or ''!r} is a placeholder, not an app: its "
            "owner sets the real one with `tether connector update --client-id ID --client-secret SECRET`",
            detail={"parameter": field.name},
        )
    return settings


def grant_of(settings: OAuthSettings) -> str:
    """``client_credentials`` when the connector says so (Power Platform's ``grantType`` custom parameter)."""
    grant = settings.custom_parameter("grantType") or (settings.properties or {}).get("grantType")
    if isinstance(grant, str) and grant.replace("_", "").lower() == "clientcredentials":
        return CLIENT_CREDENTIALS
    return AUTHORIZATION_CODE


def redirect_mode_of(properties: ApiProperties) -> str | None:
    """The connector's redirect mode, normalised; ``None`` for a connector without OAuth.

    An absent mode means ``GlobalPerConnector``: every connector in Tether was created in Tether,
    so its OAuth app must register a Tether URL anyway and nothing is gained by sharing one. Only
    a revision that says ``Global`` explicitly (an imported Power Platform connector, say) keeps
    the shared URL, and is subject to the environment's enforcement date.
    """
    settings = properties.properties.oauth_settings()
    if settings is None:
        return None
    try:
        return normalize_redirect_mode(settings.redirect_mode)
    except InputError:
        return normalize_redirect_mode(None)


def redirect_url_for(public_url: str, properties: ApiProperties, connector_id: str) -> str | None:
    settings = properties.properties.oauth_settings()
    mode = redirect_mode_of(properties)
    if settings is None or mode is None:
        return None
    return redirect_uri(public_url, mode, connector_id, configured=settings.redirect_url)


def connection_oauth(
    session: Session, row: Connection, keyring: KeyRing
) -> tuple[OAuthSettings, dict[str, Any]]:
    """A connection's OAuth settings (from its connector's current revision) and its decrypted values."""
    props = connector_properties(session, row.connector, keyring)
    form = pick_form(forms_of(props), row.parameter_set)
    values: dict[str, Any] = keyring.decrypt_json(row.secret_values) if row.secret_values else {}
    settings = oauth_settings_for(props, form, values)
    if settings is None:
        raise InputError(
            f"Connector {row.connector.name!r} no longer declares OAuth for this connection; re-create it."
        )
    return settings, values


def forms_of(properties: ApiProperties) -> tuple[ParameterSetForm, ...]:
    return build_connection_form(properties)


def state_signers(session: Session, keyring: KeyRing) -> tuple[StateSigner, StateSigner]:
    """The signers of consent states and of consent cookies, keyed by this installation's secret.

    The key is made on first use and kept KeyRing-encrypted in the database, so every replica
    agrees on it and key rotation covers it.
    """
    stored = Connections(session).install_secret_or_add(
        _STATE_KEY, lambda: keyring.encrypt(secrets.token_urlsafe(48))
    )
    key = keyring.decrypt(stored.value)
    # The cookie binding a browser to a consent gets its own key, so a cookie is never a valid state.
    return StateSigner(key, max_age=CONSENT_TTL), StateSigner(key + b":browser", max_age=CONSENT_TTL)


def record(
    session: Session, action: str, principal: Principal | str | None, row: Connection, **detail: Any
) -> None:
    """An audit event about a connection; ``detail`` must never hold a secret."""
    actor = principal.username if isinstance(principal, Principal) else principal
    AuditLog(session).record(
        action,
        actor=actor,
        environment=row.environment_id,
        target=f"connection:{row.id}",
        detail={"connector": row.connector_id, "status": row.status, **detail},
        via=principal.via if isinstance(principal, Principal) else None,
    )
    # A connection that only a new sign-in can fix is an event its owner (and alerts) hear of.
    reconsent = action == "connection.refresh_failed" and row.status == "needs-reconsent"
    if reconsent or (action == "connection.api_rejected" and row.grant is not None):
        subject = Subject("connection", row.id, row.display_name, row.owner_id)
        data = {"reason": str(detail.get("reason") or row.status_reason or "")[:500]}
        record_event(session, "connection.needs_consent", row.environment_id, subject, actor=actor, data=data)
