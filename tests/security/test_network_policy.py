"""OAuth token requests and the connection test obey the environment's network policy.

The API (origin A) is reached by the name ``localhost``, which the environment allows by name;
the authorization server listens on 127.0.0.1, an address the environment may or may not allow.
So only the token request is at stake: refused (and never sent) when 127.0.0.1 is not allowed,
sent when it is. Client credentials, the authorization-code exchange and the refresh are each
checked both ways, and the connection test too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from tests.security._kit import Origins, hop_package, serve_origins
from tests.services._connections_kit import PUBLIC_URL, expire_locally, oauth_parameters, register_redirect
from tether.runtime import DestinationRefused
from tether.secrets import KeyRing
from tether.services import (
    ConnectorRunner,
    complete_consent,
    create_connection,
    create_connector,
    invoke_operation,
    open_consent,
    set_environment_settings,
)
from tether.services import test_connection as check_connection

NAME_ONLY = ["localhost"]
NAME_AND_SERVER = ["localhost", "127.0.0.1"]


@pytest.fixture(scope="module")
def origins() -> Iterator[Origins]:
    yield from serve_origins()


@pytest.fixture
def ring() -> KeyRing:
    return KeyRing.from_keys(KeyRing.generate_key())


@pytest.fixture
def ada(make_user, team):
    return make_user("ada", environment=team, role="maker")


def _by_name(origins: Origins) -> str:
    return origins.a.replace("127.0.0.1", "localhost").removeprefix("http://")


def _allow(db, admin, team, entries: list[str]) -> None:
    set_environment_settings(db, admin, team, network_allow=entries)


def _invoke(db, who, team, connection: str, ring: KeyRing) -> Any:
    async def go() -> Any:
        async with ConnectorRunner(rate_limit=None) as connectors:
            return await invoke_operation(
                db, who, team, connection, "SameGet", {"status": "302"}, runtime=connectors, keyring=ring
            )

    return asyncio.run(go())


def _oauth_connector(db, who, team, origins: Origins, server: Any, client: str):
    settings = oauth_parameters(server, client=client)["token"]["oAuthSettings"]
    package = hop_package(_by_name(origins), "oauth", oauth=settings)
    return create_connector(db, who, team, package, name=f"oauth-{client}")


def test_client_credentials_token_request_obeys_the_policy(
    db, admin, team, ada, ring, origins: Origins, oauth_server
) -> None:
    connector = _oauth_connector(db, ada, team, origins, oauth_server, "service")
    info = create_connection(db, ada, team, connector.id, {}, keyring=ring, public_url=PUBLIC_URL)
    _allow(db, admin, team, NAME_ONLY)
    before = oauth_server.token_requests()
    origins.clear()
    with pytest.raises(DestinationRefused) as refused:
        _invoke(db, ada, team, info.id, ring)
    assert refused.value.host == "127.0.0.1" and "network_allow" in refused.value.message
    assert oauth_server.token_requests() == before, "the client secret was sent to a refused address"
    assert not origins.seen_a  # nothing was sent to the API without its token either

    _allow(db, admin, team, NAME_AND_SERVER)
    answer = _invoke(db, ada, team, info.id, ring)
    assert answer.status == 200 and oauth_server.token_requests() == before + 1
    assert origins.seen_a[0].headers["authorization"].startswith("Bearer ")


def _consent(db, ada, team, ring, server, connector):
    info = create_connection(db, ada, team, connector.id, {}, keyring=ring, public_url=PUBLIC_URL)
    consent_id = info.consent_url.rsplit("/", 1)[1]
    redirect = open_consent(db, ada, consent_id, keyring=ring)
    code, state = server.authorize(redirect.authorization_url)
    result = asyncio.run(
        complete_consent(
            db, ada, state=state, code=code, redirect_path=f"/redirect/{connector.id}",
            bound_consent=consent_id, keyring=ring, public_url=PUBLIC_URL,
        )
    )  # fmt: skip
    return info, result


def test_code_exchange_and_refresh_obey_the_policy(
    db, admin, team, ada, ring, origins: Origins, oauth_server
) -> None:
    connector = _oauth_connector(db, ada, team, origins, oauth_server, "web")
    register_redirect(oauth_server, f"{PUBLIC_URL}/redirect/{connector.id}")

    # The code exchange: refused, the consent ends in error with the reason; allowed, connected.
    _allow(db, admin, team, NAME_ONLY)
    before = oauth_server.token_requests()
    _info, refused = _consent(db, ada, team, ring, oauth_server, connector)
    assert refused.status == "error" and "network policy" in (refused.reason or "")
    assert oauth_server.token_requests() == before
    _allow(db, admin, team, NAME_AND_SERVER)
    info, accepted = _consent(db, ada, team, ring, oauth_server, connector)
    assert (accepted.status, accepted.reason) == ("connected", None)
    assert oauth_server.token_requests() == before + 1

    # The refresh of an expired token: refused, then allowed.
    expire_locally(db, ring, info.id)
    _allow(db, admin, team, NAME_ONLY)
    with pytest.raises(DestinationRefused):
        _invoke(db, ada, team, info.id, ring)
    assert oauth_server.token_requests() == before + 1
    _allow(db, admin, team, NAME_AND_SERVER)
    assert _invoke(db, ada, team, info.id, ring).status == 200
    assert oauth_server.token_requests() == before + 2


def test_connection_test_obeys_the_policy(db, admin, team, ada, ring, origins: Origins) -> None:
    package = hop_package(origins.a.removeprefix("http://"), "header")
    connector = create_connector(db, ada, team, package, name="plain")
    info = create_connection(
        db, ada, team, connector.id, {"api_key": "k3y-policy"}, keyring=ring, public_url=PUBLIC_URL
    )
    origins.clear()
    _allow(db, admin, team, NAME_ONLY)
    refused = asyncio.run(check_connection(db, ada, team, info.id, keyring=ring, path="/land"))
    assert not refused.ok and refused.status_code is None
    assert "network policy" in refused.message and "network_allow" in refused.message
    assert not origins.seen_a
    _allow(db, admin, team, NAME_AND_SERVER)
    allowed = asyncio.run(check_connection(db, ada, team, info.id, keyring=ring, path="/land"))
    assert allowed.ok and allowed.status_code == 200 and len(origins.seen_a) == 1
