"""Single sign-on with OpenID Connect: authorization code + PKCE against any OIDC provider.

    GET /sso/login     → begin_sso: discovery, a signed ``state`` (to the provider) and a signed
                         browser cookie holding the PKCE verifier (never leaves Tether), then a
                         redirect to the provider's authorization endpoint;
    GET /sso/callback  → complete_sso: state and cookie checked and matched, the code exchanged
                         (PKCE, client authentication) through authlib, the user's claims read from
                         the provider's userinfo endpoint with the fresh access token;
                         the user is created on first login (no password), their ``sso`` groups
                         are set from the groups claim, and a personal access token is issued.

Every request to the provider goes through the runtime's guarded transport; the provider's
address must pass the network policy (``TETHER_OIDC_ALLOW_HOSTS`` opens a private one). Group
membership comes from the claim at each login; what a group may do in an environment is the
environment admins' mapping (``tether env member add group:NAME --role maker``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import httpx

from tether.auth import OAuthError, StateSigner, generate_code_verifier, provider_for
from tether.config import Settings
from tether.definition import OAuthSettings
from tether.errors import AuthError, InputError, NotFound, TetherError
from tether.runtime import GuardedTransport, shared_client
from tether.secrets import KeyRing
from tether.services._access import Principal
from tether.services._identity import create_token
from tether.services._names import check_slug, check_username
from tether.services._network import network_policy
from tether.store import AuditLog, Connections, Database, Groups, Users

__all__ = ["SSO_COOKIE", "SSO_TOKEN_LIFETIME", "SsoLogin", "SsoStart", "begin_sso", "complete_sso"]

SSO_COOKIE: Final = "tether_sso"
SSO_TTL: Final = timedelta(minutes=10)
# A token minted by an SSO login is a session: it ends, and the next login re-reads the groups claim.
SSO_TOKEN_LIFETIME: Final = timedelta(hours=12)
_TIMEOUT: Final = httpx.Timeout(10.0)
_STATE_KEY: Final = "sso-state-key"


@dataclass(frozen=True, slots=True)
class SsoStart:
    """Where to send the browser, and the cookie that binds the callback to this browser."""

    authorization_url: str
    cookie: str


@dataclass(frozen=True, slots=True)
class SsoLogin:
    """A finished login: the session token (shown once), who it is, and their groups from the claim."""

    token: str
    username: str
    created: bool
    groups: tuple[str, ...]
    expires_at: datetime | None


def _configured(settings: Settings) -> tuple[str, str]:
    if not settings.oidc_issuer or not settings.oidc_client_id:
        raise NotFound(
            "Single sign-on is not set up on this server: set TETHER_OIDC_ISSUER and TETHER_OIDC_CLIENT_ID."
        )
    return settings.oidc_issuer.rstrip("/"), settings.oidc_client_id


def _client(settings: Settings) -> httpx.AsyncClient:
    allow = [entry.strip() for entry in settings.oidc_allow_hosts.split(",") if entry.strip()]
    return shared_client(GuardedTransport(default_policy=network_policy(allow)), _TIMEOUT)


async def _get_json(client: httpx.AsyncClient, url: str, what: str, **kwargs: Any) -> dict[str, Any]:
    try:
        response = await client.get(url, **kwargs)
    except (httpx.HTTPError, TetherError) as exc:
        raise AuthError(f"Single sign-on: cannot reach the provider's {what} at {url}: {exc}") from exc
    if response.status_code != 200:
        raise AuthError(f"Single sign-on: the provider's {what} answered HTTP {response.status_code}.")
    try:
        data = response.json()
    except ValueError as exc:
        raise AuthError(f"Single sign-on: the provider's {what} is not JSON.") from exc
    if not isinstance(data, dict):
        raise AuthError(f"Single sign-on: the provider's {what} is not a JSON object.")
    return data


async def _discover(client: httpx.AsyncClient, issuer: str) -> dict[str, Any]:
    found = await _get_json(client, f"{issuer}/.well-known/openid-configuration", "discovery document")
    for key in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint"):
        if not isinstance(found.get(key), str):
            raise AuthError(f"Single sign-on: the provider's discovery document has no {key}.")
    return found


def _signers(db: Database, keyring: KeyRing) -> tuple[StateSigner, StateSigner]:
    """Signers of SSO states and of the browser cookie, keyed by this installation's own SSO secret.

    Made on first use, kept KeyRing-encrypted in the database (every replica agrees; key rotation
    covers it), and apart from the consent key so a consent state is never an SSO state.
    """
    with db.session() as session:
        stored = Connections(session).install_secret_or_add(
            _STATE_KEY, lambda: keyring.encrypt(secrets.token_urlsafe(48))
        )
        key = keyring.decrypt(stored.value)
    return StateSigner(key, max_age=SSO_TTL), StateSigner(key + b":browser", max_age=SSO_TTL)


def _provider(settings: Settings, discovery: dict[str, Any], client: httpx.AsyncClient) -> Any:
    secret = settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else None
    oauth = OAuthSettings.model_validate(
        {
            "identityProvider": "oauth2",
            "clientId": settings.oidc_client_id,
            "clientSecret": secret,
            "scopes": settings.oidc_scopes.split(),
            "customParameters": {
                "authorizationUrl": {"value": discovery["authorization_endpoint"]},
                "tokenUrl": {"value": discovery["token_endpoint"]},
                "refreshUrl": {"value": discovery["token_endpoint"]},
            },
        }
    )
    return provider_for(oauth, http_client=client)


async def begin_sso(db: Database, settings: Settings, keyring: KeyRing, *, redirect_uri: str) -> SsoStart:
    """The provider's authorization URL (state + PKCE S256) and the browser cookie to set."""
    issuer, _client_id = _configured(settings)
    verifier, nonce = generate_code_verifier(), secrets.token_urlsafe(24)
    state_signer, browser_signer = _signers(db, keyring)
    async with _client(settings) as client:
        discovery = await _discover(client, issuer)
        provider = _provider(settings, discovery, client)
        state = state_signer.sign(consent_id="sso", user_id="", nonce=nonce)
        url = provider.authorization_url(redirect_uri=redirect_uri, state=state, code_verifier=verifier)
    # The verifier rides in the signed cookie: only this browser, back at Tether, can finish the login.
    cookie = browser_signer.sign(consent_id="sso", user_id=verifier, nonce=nonce)
    return SsoStart(authorization_url=url, cookie=cookie)


async def complete_sso(
    db: Database,
    settings: Settings,
    keyring: KeyRing,
    *,
    code: str | None,
    state: str | None,
    cookie: str | None,
    redirect_uri: str,
    error: str | None = None,
) -> SsoLogin:
    """Finish a login: check state and cookie, exchange the code, read claims, create/sync the user."""
    issuer, _client_id = _configured(settings)
    if error:
        raise AuthError(f"Single sign-on: the provider refused the login ({error}).")
    if not code or not state or not cookie:
        raise AuthError(
            "Single sign-on: this callback lacks its code, state or browser cookie; "
            "start again at /sso/login."
        )
    state_signer, browser_signer = _signers(db, keyring)
    try:
        expected = state_signer.verify(state)
        bound = browser_signer.verify(cookie)
    except TetherError as exc:
        raise AuthError(f"Single sign-on: {exc.message} Start again at /sso/login.") from exc
    if expected.consent_id != "sso" or bound.nonce != expected.nonce:
        raise AuthError("Single sign-on: this callback belongs to another login; start again at /sso/login.")
    async with _client(settings) as client:
        discovery = await _discover(client, issuer)
        provider = _provider(settings, discovery, client)
        try:
            tokens = await provider.exchange_code(
                code, redirect_uri=redirect_uri, code_verifier=bound.user_id
            )
        except OAuthError as exc:
            raise AuthError(f"Single sign-on: the code exchange failed: {exc.message}") from exc
        claims = await _get_json(
            client,
            discovery["userinfo_endpoint"],
            "userinfo endpoint",
            headers={"Authorization": f"Bearer {tokens.access_token}"},
        )
    return _sign_in(db, settings, claims)


def _username(claims: dict[str, Any]) -> str:
    for key in ("preferred_username", "email", "sub"):
        value = claims.get(key)
        if isinstance(value, str) and value:
            name = value.split("@")[0] if key == "email" else value
            try:
                return check_username(name)
            except InputError:
                continue
    raise AuthError(
        "Single sign-on: the provider gave no usable user name (preferred_username, email or sub)."
    )


def _group_names(settings: Settings, claims: dict[str, Any]) -> tuple[str, ...]:
    raw = claims.get(settings.oidc_groups_claim) or []
    if isinstance(raw, str):
        raw = [raw]
    names: list[str] = []
    for value in raw if isinstance(raw, list) else []:
        name = str(value).strip().lower()
        try:
            names.append(check_slug(name, what="group"))
        except InputError:
            continue  # a group name Tether cannot hold is skipped, not fatal to the login
    return tuple(sorted(set(names)))


def _sign_in(db: Database, settings: Settings, claims: dict[str, Any]) -> SsoLogin:
    username, wanted = _username(claims), _group_names(settings, claims)
    with db.session() as session:
        users, groups = Users(session), Groups(session)
        user = users.by_username(username)
        created = user is None
        if user is None:
            display = claims.get("name") if isinstance(claims.get("name"), str) else username
            email = claims.get("email") if isinstance(claims.get("email"), str) else None
            user = users.add(username, password_hash=None, display_name=str(display), email=email)
            AuditLog(session).record(
                "user.create", actor=None, target=f"user:{user.id}", detail={"sso": True}, via="sso"
            )
        if user.disabled:
            raise AuthError("This account is disabled.")
        current = groups.of_user(user.id)
        for name in wanted:
            group = groups.find(name) or groups.add(name, display_name=name, source="sso")
            if group.id not in current:
                groups.add_member(group.id, user.id)
        for group in groups.list():
            if group.source == "sso" and group.id in current and group.name not in wanted:
                groups.remove_member(group.id, user.id)
        AuditLog(session).record(
            "user.login",
            actor=user.username,
            target=f"user:{user.id}",
            detail={"groups": list(wanted)},
            via="sso",
        )
        principal = Principal(user_id=user.id, username=user.username, is_admin=user.is_admin, via="sso")
    token, info = create_token(db, principal, "SSO login", expires_in=SSO_TOKEN_LIFETIME)
    return SsoLogin(
        token=token, username=username, created=created, groups=wanted, expires_at=info.expires_at
    )
