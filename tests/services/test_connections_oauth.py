"""OAuth connections against a real authorization server (django-oauth-toolkit): consent with PKCE,
refresh, rotation, revocation, client credentials, attacks refused, one refresh under concurrency,
and the redirect-URI migration."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import httpx
import pytest

from tests.services._connections_kit import (
    PUBLIC_URL,
    expire_locally,
    oauth_package,
    register_redirect,
    run,
    stored_tokens,
)
from tether.auth import ExpiredState, InvalidState, OAuth2Auth
from tether.secrets import KeyRing
from tether.services import (
    ConnectionNeedsAttention,
    ConnectionTokenSource,
    ConsentRefused,
    RedirectMigrationRequired,
    complete_consent,
    create_connection,
    create_connector,
    get_connection,
    list_events,
    open_consent,
    set_environment_settings,
    set_redirect_mode,
)
from tether.store import AuditLog, Connections, PendingConsent, utcnow


@pytest.fixture
def ring() -> KeyRing:
    return KeyRing.from_keys(KeyRing.generate_key())


@pytest.fixture
def team(team, db, admin) -> str:
    """The conftest's environment, opened for the authorization server on 127.0.0.1: OAuth token
    requests obey the environment's network policy like every other outbound call."""
    set_environment_settings(db, admin, team, network_allow=["127.0.0.1"])
    return team


@pytest.fixture
def alice(make_user, team):
    return make_user("alice", environment=team, role="maker")


def _connector(db, user, team, server, *, mode="GlobalPerConnector", client="web", name="oauth"):
    info = create_connector(db, user, team, oauth_package(server, client=client, mode=mode), name=name)
    register_redirect(server, f"{PUBLIC_URL}/redirect/{info.id}")
    return info


def _begin(db, user, team, connector, ring):
    info = create_connection(db, user, team, connector, {}, keyring=ring, public_url=PUBLIC_URL)
    assert info.status == "needs-consent" and info.consent_url
    return info, info.consent_url.rsplit("/", 1)[1]


def _complete(db, browser, ring, *, state, code, path, consent_id):
    return run(
        complete_consent(
            db, browser, state=state, code=code, redirect_path=path, bound_consent=consent_id,
            keyring=ring, public_url=PUBLIC_URL,
        )
    )  # fmt: skip


def _connect(db, user, team, server, ring, connector):
    info, consent_id = _begin(db, user, team, connector.name, ring)
    redirect = open_consent(db, user, consent_id, keyring=ring)
    code, state = server.authorize(redirect.authorization_url)
    result = _complete(
        db, user, ring, state=state, code=code, path=f"/redirect/{connector.id}", consent_id=consent_id
    )
    assert (result.status, result.reason) == ("connected", None)
    return info


async def _call(db, ring, server, connection_id, count=1, *, separate=True):
    """``count`` concurrent calls to the protected endpoint, each through its own token source."""
    shared = ConnectionTokenSource(db, connection_id, keyring=ring)
    async with httpx.AsyncClient() as client:
        calls = [
            client.get(
                f"{server.base_url}/api/me",
                auth=OAuth2Auth(
                    ConnectionTokenSource(db, connection_id, keyring=ring) if separate else shared
                ),
            )
            for _ in range(count)
        ]
        return await asyncio.gather(*calls)


def test_authorization_code_with_pkce_refresh_rotation_and_revocation(db, team, alice, oauth_server, ring):
    connector = _connector(db, alice, team, oauth_server)
    info = _connect(db, alice, team, oauth_server, ring, connector)
    [answer] = run(_call(db, ring, oauth_server, info.id))
    assert answer.status_code == 200 and answer.json()["user"] == "alice"
    first = stored_tokens(db, ring, info.id)
    assert first is not None and first.refresh_token and first.expires_at

    # Expiry ⇒ refresh, with a rotated refresh token stored.
    expire_locally(db, ring, info.id)
    before = oauth_server.token_requests()
    [answer] = run(_call(db, ring, oauth_server, info.id))
    assert answer.status_code == 200 and oauth_server.token_requests() == before + 1
    second = stored_tokens(db, ring, info.id)
    assert second.access_token != first.access_token and second.refresh_token != first.refresh_token

    # A token the server no longer accepts (401 invalid_token) ⇒ one forced refresh, then success.
    oauth_server.expire_tokens()
    [answer] = run(_call(db, ring, oauth_server, info.id))
    assert answer.status_code == 200
    third = stored_tokens(db, ring, info.id)

    # Revoked refresh token ⇒ the connection needs a new sign-in, says how, and it is audited.
    assert oauth_server.revoke_refresh_token(third.refresh_token)
    expire_locally(db, ring, info.id)
    with pytest.raises(ConnectionNeedsAttention, match="--reconsent"):
        run(_call(db, ring, oauth_server, info.id))
    shown = get_connection(db, alice, team, info.id)
    assert shown.status == "needs-reconsent" and "invalid_grant" in (shown.status_reason or "")
    assert shown.fix and f"tether connection update {info.id} --env {team} --reconsent" in shown.fix
    with db.session() as session:
        assert AuditLog(session).list(action="connection.refresh_failed")
    # ... and is an event of the connection (webhooks and alerts hear of it).
    events, _more = list_events(db, alice, team, types=["connection.needs_consent"])
    assert [e.subject["id"] for e in events] == [info.id] and "invalid_grant" in events[0].data["reason"]


def test_client_credentials_connection(db, team, alice, oauth_server, ring):
    connector = _connector(db, alice, team, oauth_server, client="service", name="service")
    info = create_connection(db, alice, team, "service", {}, keyring=ring, public_url=PUBLIC_URL)
    assert (info.status, info.grant, info.consent_url) == ("connected", "client_credentials", None)
    [answer] = run(_call(db, ring, oauth_server, info.id))
    assert answer.status_code == 200 and answer.json()["client_id"] == oauth_server.service_client_id
    assert connector.id and stored_tokens(db, ring, info.id) is not None


@pytest.mark.parametrize(
    "separate", [pytest.param(True, id="one-source-each"), pytest.param(False, id="shared")]
)
def test_fifty_concurrent_calls_on_an_expired_token_refresh_once(
    db, team, alice, oauth_server, ring, separate
):
    connector = _connector(db, alice, team, oauth_server)
    info = _connect(db, alice, team, oauth_server, ring, connector)
    expire_locally(db, ring, info.id)
    before = oauth_server.token_requests()
    answers = run(_call(db, ring, oauth_server, info.id, 50, separate=separate))
    assert [a.status_code for a in answers] == [200] * 50
    assert oauth_server.token_requests() == before + 1


# -- attacks ---------------------------------------------------------------------------------------


@pytest.fixture
def started(db, team, alice, oauth_server, ring):
    """A consent opened by alice and authorized at the provider: (consent id, code, state, connector)."""
    connector = _connector(db, alice, team, oauth_server)
    _info, consent_id = _begin(db, alice, team, connector.name, ring)
    redirect = open_consent(db, alice, consent_id, keyring=ring)
    code, state = oauth_server.authorize(redirect.authorization_url)
    return consent_id, code, state, connector


def test_tampered_state_is_refused(db, alice, ring, started):
    consent_id, code, state, connector = started
    tampered = state[:-2] + ("AA" if not state.endswith("AA") else "BB")
    with pytest.raises(InvalidState):
        _complete(
            db,
            alice,
            ring,
            state=tampered,
            code=code,
            path=f"/redirect/{connector.id}",
            consent_id=consent_id,
        )


def test_replayed_state_is_refused(db, alice, ring, started):
    consent_id, code, state, connector = started
    path = f"/redirect/{connector.id}"
    assert (
        _complete(db, alice, ring, state=state, code=code, path=path, consent_id=consent_id).status
        == "connected"
    )
    with pytest.raises(ConsentRefused, match="already completed"):
        _complete(db, alice, ring, state=state, code=code, path=path, consent_id=consent_id)


def test_expired_state_is_refused(db, alice, ring, started):
    consent_id, code, state, connector = started
    with db.session() as session:
        session.get(PendingConsent, consent_id).expires_at = utcnow() - timedelta(seconds=1)
    with pytest.raises(ExpiredState):
        _complete(
            db, alice, ring, state=state, code=code, path=f"/redirect/{connector.id}", consent_id=consent_id
        )


def test_redirect_uri_mismatch_is_refused(db, alice, ring, started):
    consent_id, code, state, _connector_info = started
    with pytest.raises(ConsentRefused, match="redirected to"):
        _complete(db, alice, ring, state=state, code=code, path="/redirect", consent_id=consent_id)


def test_pending_consent_without_verifier_is_refused(db, alice, ring, started):
    consent_id, code, state, connector = started
    with db.session() as session:
        session.get(PendingConsent, consent_id).verifier = None
    with pytest.raises(ConsentRefused, match="PKCE"):
        _complete(
            db, alice, ring, state=state, code=code, path=f"/redirect/{connector.id}", consent_id=consent_id
        )


def test_consent_completed_by_another_user_is_refused(db, team, make_user, ring, started):
    consent_id, code, state, connector = started
    mallory = make_user("mallory", environment=team, role="maker")
    with pytest.raises(ConsentRefused, match="another user"):
        _complete(
            db, mallory, ring, state=state, code=code, path=f"/redirect/{connector.id}", consent_id=None
        )
    with pytest.raises(ConsentRefused):
        open_consent(db, mallory, consent_id, keyring=ring)


def test_provider_error_sets_status_error(db, team, alice, ring, started):
    consent_id, _code, state, connector = started
    result = run(
        complete_consent(
            db, alice, state=state, code=None, redirect_path=f"/redirect/{connector.id}",
            error="access_denied", error_description="The user said no", bound_consent=consent_id,
            keyring=ring, public_url=PUBLIC_URL,
        )
    )  # fmt: skip
    assert result.status == "error" and "access_denied" in result.reason and "said no" in result.reason


# -- redirect migration ----------------------------------------------------------------------------


def test_redirect_migration_scenario(db, team, admin, alice, oauth_server, ring):
    connector = create_connector(db, alice, team, oauth_package(oauth_server, mode="Global"), name="legacy")
    register_redirect(oauth_server, f"{PUBLIC_URL}/redirect")
    # Before the enforcement date a Global connector works, through the global URL.
    _before, consent_id = _begin(db, alice, team, "legacy", ring)
    redirect = open_consent(db, alice, consent_id, keyring=ring)
    code, state = oauth_server.authorize(redirect.authorization_url)
    existing = _complete(db, alice, ring, state=state, code=code, path="/redirect", consent_id=consent_id)
    assert existing.status == "connected"

    set_environment_settings(db, admin, team, oauth_global_redirect_enforcement=date.today())
    with pytest.raises(RedirectMigrationRequired) as refused:
        create_connection(db, alice, team, "legacy", {}, keyring=ring, public_url=PUBLIC_URL)
    message = refused.value.message
    assert "'legacy'" in message and "--redirect-mode GlobalPerConnector" in message
    assert f"{PUBLIC_URL}/redirect/{connector.id}" in message

    # The existing connection still refreshes.
    expire_locally(db, ring, existing.connection_id)
    [answer] = run(_call(db, ring, oauth_server, existing.connection_id))
    assert answer.status_code == 200

    switch = set_redirect_mode(db, alice, team, "legacy", "GlobalPerConnector", public_url=PUBLIC_URL)
    assert switch.redirect_url == f"{PUBLIC_URL}/redirect/{connector.id}" and switch.previous_mode == "Global"
    assert any("Register" in step for step in switch.steps)
    register_redirect(oauth_server, switch.redirect_url)
    info = _connect(db, alice, team, oauth_server, ring, connector)
    assert get_connection(db, alice, team, info.id).status == "connected"
    with db.session() as session:
        pending = [p for p in session.query(PendingConsent).all() if p.connection_id == info.id]
        assert pending[0].redirect_uri == switch.redirect_url
        assert Connections(session).get(existing.connection_id).status == "connected"
