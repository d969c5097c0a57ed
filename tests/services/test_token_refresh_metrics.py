"""``tether_token_refreshes_total`` counts OAuth renewals by outcome, against a real authorization
server (django-oauth-toolkit): a renewal that works, then one the provider refuses."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.services._connections_kit import expire_locally, run, stored_tokens
from tests.services.test_connections_oauth import _call, _connect, _connector
from tether import telemetry
from tether.secrets import KeyRing
from tether.services import ConnectionNeedsAttention, set_environment_settings


@pytest.fixture
def ring() -> KeyRing:
    return KeyRing.from_keys(KeyRing.generate_key())


@pytest.fixture
def metrics() -> Iterator[None]:
    telemetry.enable_metrics()
    yield
    telemetry.disable_metrics()


def _refreshes() -> dict[str, float]:
    counts: dict[str, float] = {}
    for family in text_string_to_metric_families(telemetry.render_metrics().decode()):
        for sample in family.samples:
            if sample.name == "tether_token_refreshes_total":
                counts[sample.labels["outcome"]] = sample.value
    return counts


def test_token_renewals_are_counted_by_outcome(
    db, team, admin, make_user, oauth_server, ring, metrics
) -> None:
    set_environment_settings(db, admin, team, network_allow=["127.0.0.1"])
    alice = make_user("alice", environment=team, role="maker")
    connector = _connector(db, alice, team, oauth_server)
    info = _connect(db, alice, team, oauth_server, ring, connector)
    assert _refreshes() == {}
    expire_locally(db, ring, info.id)
    [answer] = run(_call(db, ring, oauth_server, info.id))
    assert answer.status_code == 200
    assert _refreshes() == {"renewed": 1.0}
    tokens = stored_tokens(db, ring, info.id)
    assert oauth_server.revoke_refresh_token(tokens.refresh_token)
    expire_locally(db, ring, info.id)
    with pytest.raises(ConnectionNeedsAttention):
        run(_call(db, ring, oauth_server, info.id))
    assert _refreshes() == {"renewed": 1.0, "refused": 1.0}
