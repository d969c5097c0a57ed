"""OAuth consent: authorization code + PKCE, from Tether's consent page to the redirect endpoint.

The flow, and what each step defends against:

1. :func:`start_consent` (called by create/update) stores a pending consent: the PKCE verifier
   (encrypted; it never leaves the server), the exact redirect URI, an expiry. The user is shown
   Tether's own ``/consent/{id}`` URL, never the provider's.
2. :func:`open_consent` runs when the user opens that URL *authenticated*: it checks the consent is
   theirs, mints a fresh signed state (only its nonce's hash is kept, so each visit invalidates the
   previous link) and a short-lived signed cookie binding this browser to user and consent.
3. :func:`complete_consent` runs at ``/redirect[/{connector_id}]``: the state must verify, be
   unexpired, current and unused (consumed by one conditional UPDATE, so a replay loses); the
   browser's cookie must name the user who began it (no completing someone else's connection);
   the redirect URI must be exactly the one sent; the stored verifier is used for the exchange.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tether.auth import (
    ExpiredState,
    InvalidState,
    OAuthError,
    TokenSet,
    generate_code_verifier,
    make_nonce,
    provider_for,
)
from tether.errors import InputError, PermissionDenied
from tether.runtime import DestinationRefused, NetworkPolicy, Runtime, road_client
from tether.secrets import KeyRing
from tether.services._access import Principal, resolve_environment
from tether.services._connection_parts import (
    CONSENT_TTL,
    connection_oauth,
    connector_properties,
    find_connection,
    record,
    redirect_url_for,
    state_signers,
)
from tether.services._network import network_policy
from tether.store import Connection, Connections, Database, PendingConsent, Users, utcnow

__all__ = [
    "CONSENT_COOKIE",
    "CONSENT_RETURN_COOKIE",
    "ConsentRedirect",
    "ConsentRefused",
    "ConsentResult",
    "ConsentStart",
    "begin_consent",
    "complete_consent",
    "open_consent",
    "read_consent_cookie",
    "safe_return_path",
    "start_consent",
]

CONSENT_COOKIE = "tether_consent"
# Set (path /redirect) by a page that starts a sign-in in the browser, e.g. the portal's connection
# page: the redirect endpoint sends the browser back there instead of a "you can close this" page.
CONSENT_RETURN_COOKIE = "tether_consent_return"


class ConsentRefused(PermissionDenied):
    """A redirect that must not complete a consent (replayed, mismatched, or not the user's own)."""

    code = "consent-refused"


@dataclass(frozen=True, slots=True)
class ConsentStart:
    """A pending consent: ``consent_url`` is what the user opens (Tether's page, which signs them in)."""

    consent_id: str
    connection_id: str
    consent_url: str
    redirect_uri: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ConsentRedirect:
    """Where to send the browser (the provider), and the cookie binding it to the consent."""

    authorization_url: str
    cookie: str
    max_age: int


@dataclass(frozen=True, slots=True)
class ConsentResult:
    """How a consent ended: ``connected``, or ``error`` with the reason in plain words."""

    connection_id: str
    connection: str
    status: str
    reason: str | None


def safe_return_path(value: str | None) -> str | None:
    """``value`` if it is a path on this site (``/e/...``), else ``None``: never an open redirect."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    if any(ord(ch) < 0x21 for ch in value):  # no control characters or spaces smuggled into Location
        return None
    return value


def _hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def start_consent(
    session: Session, principal: Principal, row: Connection, *, keyring: KeyRing, public_url: str
) -> ConsentStart:
    """Store a pending consent for ``row`` inside the caller's transaction."""
    props = connector_properties(session, row.connector)
    redirect = redirect_url_for(public_url, props, row.connector_id)
    if redirect is None:
        raise InputError(f"Connector {row.connector.name!r} has no OAuth settings to sign in with.")
    pending = Connections(session).add_pending(
        PendingConsent(
            connection_id=row.id,
            user_id=principal.user_id,
            verifier=keyring.encrypt(generate_code_verifier()),
            redirect_uri=redirect,
            expires_at=utcnow() + CONSENT_TTL,
        )
    )
    url = f"{public_url.rstrip('/')}/consent/{pending.id}"
    return ConsentStart(pending.id, row.id, url, redirect, pending.expires_at)


def begin_consent(
    db: Database,
    principal: Principal,
    environment: str,
    connection: str,
    *,
    keyring: KeyRing,
    public_url: str,
) -> ConsentStart:
    """Start a (new) sign-in for one of the caller's OAuth connections."""
    with db.session() as session:
        env, role = resolve_environment(session, principal, environment)
        row = find_connection(session, principal, env, role, connection, owner_only=True)
        if row.grant != "authorization_code":
            raise InputError(f"Connection {connection!r} does not sign in at a provider (no consent needed).")
        return start_consent(session, principal, row, keyring=keyring, public_url=public_url)


def open_consent(db: Database, principal: Principal, consent_id: str, *, keyring: KeyRing) -> ConsentRedirect:
    """The provider URL for a pending consent of the caller, with a fresh state and browser cookie."""
    with db.session() as session:
        repo = Connections(session)
        pending = repo.pending(consent_id)
        if pending is None or pending.user_id != principal.user_id:
            raise ConsentRefused(
                "This sign-in link is not yours, or does not exist; start the connection again."
            )
        if pending.used_at is not None or pending.expires_at <= utcnow():
            raise ConsentRefused(
                "This sign-in link was already used or has expired; start the connection again."
            )
        if not pending.verifier:
            raise ConsentRefused("This sign-in has no PKCE verifier; start the connection again.")
        row = repo.get(pending.connection_id)
        assert row is not None  # a pending consent's connection is deleted with it (foreign key cascade)
        settings, values = connection_oauth(session, row, keyring)
        states, cookies = state_signers(session, keyring)
        nonce = make_nonce()
        pending.state_hash = _hash(nonce)
        state = states.sign(
            consent_id=pending.id, user_id=pending.user_id, nonce=nonce, expires_at=pending.expires_at
        )
        url = provider_for(settings, values).authorization_url(
            redirect_uri=pending.redirect_uri,
            state=state,
            code_verifier=keyring.decrypt(pending.verifier).decode(),
        )
        cookie = cookies.sign(
            consent_id=pending.id, user_id=pending.user_id, nonce="browser", expires_at=pending.expires_at
        )
        return ConsentRedirect(url, cookie, int(CONSENT_TTL.total_seconds()))


def read_consent_cookie(
    db: Database, cookie: str | None, *, keyring: KeyRing
) -> tuple[Principal, str] | None:
    """The user and consent a browser's cookie names, or ``None`` when absent, forged or expired."""
    if not cookie:
        return None
    with db.session() as session:
        _states, cookies = state_signers(session, keyring)
        try:
            bound = cookies.verify(cookie)
        except InvalidState:
            return None
        user = Users(session).get(bound.user_id)
        if user is None or user.disabled:
            return None
        return Principal(user.id, user.username, user.is_admin), bound.consent_id


@dataclass(frozen=True, slots=True)
class _Accepted:
    connection_id: str
    redirect_uri: str
    verifier: str
    settings: Any
    values: dict[str, Any]
    actor: str
    network: NetworkPolicy


async def complete_consent(
    db: Database,
    browser: Principal | None,
    *,
    state: str,
    code: str | None,
    redirect_path: str,
    error: str | None = None,
    error_description: str | None = None,
    bound_consent: str | None = None,
    keyring: KeyRing,
    public_url: str,
    runtime: Runtime | None = None,
) -> ConsentResult:
    """Finish a consent at the redirect endpoint; see the module docstring for every check.

    ``browser`` is the user the consent cookie names (``None`` without a valid cookie) and
    ``bound_consent`` the consent it was set for. A provider ``error`` ends the consent with status
    ``error``. Attacks raise :class:`ConsentRefused` or ``InvalidState``/``ExpiredState``. The code
    exchange goes on ``runtime``'s road (one made for it when None) under the network policy of
    the connection's environment; a refused token URL ends the consent with the reason.
    """
    accepted = await asyncio.to_thread(
        _accept,
        db,
        browser,
        state,
        code,
        redirect_path,
        error,
        error_description,
        bound_consent,
        keyring,
        public_url,
    )
    if isinstance(accepted, ConsentResult):
        return accepted
    assert code is not None  # _accept refuses a redirect with neither code nor error
    try:
        http_client = road_client(accepted.network, runtime)
        provider = provider_for(accepted.settings, accepted.values, http_client=http_client)
        tokens = await provider.exchange_code(
            code, redirect_uri=accepted.redirect_uri, code_verifier=accepted.verifier
        )
    except OAuthError as exc:
        return await asyncio.to_thread(_finish, db, keyring, accepted, None, exc.message)
    except DestinationRefused as exc:
        reason = (
            f"the token URL's host {exc.host} is refused by the environment's network policy "
            f"({exc.reason} address); an environment admin can allow it in 'network_allow'"
        )
        return await asyncio.to_thread(_finish, db, keyring, accepted, None, reason)
    return await asyncio.to_thread(_finish, db, keyring, accepted, tokens, None)


def _accept(
    db: Database,
    browser: Principal | None,
    state: str,
    code: str | None,
    redirect_path: str,
    error: str | None,
    error_description: str | None,
    bound_consent: str | None,
    keyring: KeyRing,
    public_url: str,
) -> _Accepted | ConsentResult:
    with db.session() as session:
        repo = Connections(session)
        states, _cookies = state_signers(session, keyring)
        payload = states.verify(state)
        pending = repo.pending(payload.consent_id)
        if pending is None or pending.state_hash != _hash(payload.nonce):
            raise InvalidState("this sign-in link was replaced by a newer one or is unknown; start again")
        if pending.used_at is not None:
            raise ConsentRefused(
                "This sign-in was already completed (a replayed redirect); start the connection again."
            )
        if pending.expires_at <= utcnow():
            raise ExpiredState()
        if browser is None or browser.user_id != pending.user_id or payload.user_id != pending.user_id:
            raise ConsentRefused(
                "This sign-in was started by another user (or in another browser); the user who created the "
                "connection must open its consent URL and sign in themselves."
            )
        if bound_consent is not None and bound_consent != pending.id:
            raise ConsentRefused(
                "This browser opened a different sign-in; open this connection's consent URL again."
            )
        if public_url.rstrip("/") + redirect_path != pending.redirect_uri:
            raise ConsentRefused(
                f"The provider redirected to {public_url.rstrip('/')}{redirect_path}, not to "
                f"{pending.redirect_uri} where this sign-in began; check the OAuth app's redirect URL."
            )
        if not pending.verifier:
            raise ConsentRefused(
                "This sign-in has no PKCE verifier on the server; start the connection again."
            )
        if not repo.mark_used(pending.id, pending.state_hash, utcnow()):
            raise ConsentRefused(
                "This sign-in was already completed (a replayed redirect); start the connection again."
            )
        row = repo.get(pending.connection_id)
        assert row is not None
        if error or not code:
            why = (
                f"{error}: {error_description}"
                if error and error_description
                else (error or "no code returned")
            )
            row.status, row.status_reason, row.updated_at = (
                "error",
                f"The provider refused the sign-in ({why}).",
                utcnow(),
            )
            record(session, "connection.consent_failed", browser, row, reason=row.status_reason)
            return ConsentResult(row.id, row.display_name, row.status, row.status_reason)
        settings, values = connection_oauth(session, row, keyring)
        verifier = keyring.decrypt(pending.verifier).decode()
        allowed = repo.settings(row.environment_id)
        network = network_policy(allowed.network_allow if allowed else None)
        return _Accepted(row.id, pending.redirect_uri, verifier, settings, values, browser.username, network)


def _finish(
    db: Database, keyring: KeyRing, accepted: _Accepted, tokens: TokenSet | None, failure: str | None
) -> ConsentResult:
    with db.session() as session:
        row = Connections(session).get(accepted.connection_id, for_update=True)
        if row is None:
            raise InputError("The connection was deleted while its sign-in was in progress.")
        now = utcnow()
        if tokens is None:
            row.status, row.status_reason = "error", f"The token exchange failed: {failure}"
            record(session, "connection.consent_failed", accepted.actor, row, reason=row.status_reason)
        else:
            row.tokens = keyring.encrypt_json(tokens.to_dict())
            row.token_expires_at, row.token_refreshed_at = tokens.expires_at, now
            # A new grant: renewals in flight for the old one must not overwrite it (compare-and-set).
            row.token_version = (row.token_version or 0) + 1
            row.refresh_failures, row.refresh_retry_at = 0, None
            row.status, row.status_reason = "connected", None
            record(session, "connection.consent", accepted.actor, row)
        row.updated_at = now
        return ConsentResult(row.id, row.display_name, row.status, row.status_reason)
