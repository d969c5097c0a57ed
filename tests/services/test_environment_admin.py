"""The environment administration overview: environment admins only, every connector's redirect mode."""

from __future__ import annotations

import pytest

from tests.services._connections_kit import PUBLIC_URL, api_key_package, package
from tether.errors import NotFound, PermissionDenied
from tether.services import create_connector, environment_overview, set_environment_settings


@pytest.fixture
def backend() -> str:
    return "sqlite"  # permission logic only: one database is enough


def _oauth(mode: str) -> dict:
    settings = {
        "identityProvider": "oauth2",
        "clientId": "app",
        "scopes": [],
        "redirectMode": mode,
        "customParameters": {
            "authorizationUrl": {"value": "https://idp.example/authorize"},
            "tokenUrl": {"value": "https://idp.example/token"},
        },
    }
    return {"token": {"type": "oauthSetting", "oAuthSettings": settings}}


def test_admins_see_every_connector_with_its_redirect_mode(db, team, admin, make_user) -> None:
    maker = make_user("maker", environment=team, role="maker")
    create_connector(db, maker, team, package("Legacy", _oauth("Global")), name="legacy")
    fresh = create_connector(db, maker, team, package("Fresh", _oauth("GlobalPerConnector")), name="fresh")
    create_connector(db, maker, team, api_key_package(), name="keyed")
    set_environment_settings(db, admin, team, network_allow=["127.0.0.1"])
    env_admin = make_user("boss", environment=team, role="admin")
    overview = environment_overview(db, env_admin, team, public_url=PUBLIC_URL)
    modes = {c.name: (c.redirect_mode, c.redirect_url, c.owner) for c in overview.connectors}
    assert modes == {
        "legacy": ("Global", f"{PUBLIC_URL}/redirect", "maker"),
        "fresh": ("GlobalPerConnector", f"{PUBLIC_URL}/redirect/{fresh.id}", "maker"),
        "keyed": (None, None, "maker"),
    }
    assert overview.settings.network_allow == ("127.0.0.1",)
    assert {m.username for m in overview.members} >= {"maker", "boss"}


def test_makers_and_strangers_are_refused(db, team, make_user) -> None:
    maker = make_user("maker", environment=team, role="maker")
    with pytest.raises(PermissionDenied, match="admin role"):
        environment_overview(db, maker, team, public_url=PUBLIC_URL)
    with pytest.raises(NotFound):
        environment_overview(db, make_user("stranger"), team, public_url=PUBLIC_URL)
