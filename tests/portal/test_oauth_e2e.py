"""Acceptance 3 in the browser: OAuth sign-in against the real django-oauth-toolkit server, back to
the page that started it, connected, an operation tested; a connector on the global redirect URI
moved to its own URL, and a new connection through that URL.

This server's ``public_url`` is its own address (the redirect URIs the provider checks are built
from it), so it runs beside the shared portal server, in the same browser.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from tests.oauth_server.fixtures import OAuthServer, oauth_server  # noqa: F401  (fixture)
from tests.portal.conftest import ADMIN_PASSWORD, VIEWPORT, Portal
from tests.services._connections_kit import (
    oauth_package,
    oauth_parameters,
    package,
    register_redirect,
    stored_tokens,
)
from tether import services
from tether.api import create_app, free_port, serve_in_thread
from tether.config import load_settings
from tether.secrets import KeyRing
from tether.store import Database, migrate


@pytest.fixture(scope="module")
def oauth_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    port = free_port("127.0.0.1")
    settings = load_settings(
        home=tmp_path_factory.mktemp("portal-oauth-home"),
        admin_password=ADMIN_PASSWORD,
        public_url=f"http://127.0.0.1:{port}",
    )
    database = Database(settings.database_url)
    migrate(database)
    services.bootstrap(database, settings)
    services.set_environment_settings(
        database, services.authenticate_password(database, "admin", ADMIN_PASSWORD), "default",
        network_allow=["127.0.0.1"],  # the provider and its API are on loopback
    )  # fmt: skip
    with serve_in_thread(create_app(settings, database), port=port) as url:
        yield Portal(url=url, db=database, settings=settings)
    database.close()


@pytest.fixture
def oauth_page(browser: Any, oauth_portal: Portal) -> Iterator[Any]:
    context = browser.new_context(viewport=VIEWPORT, base_url=oauth_portal.url)
    context.set_default_timeout(30_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def _legacy_package(server: OAuthServer) -> Any:
    """An OAuth connector on the global redirect URI, with its security scheme as the wizard writes it."""
    scheme = {
        "type": "oauth2",
        "flow": "accessCode",
        "authorizationUrl": server.authorization_url,
        "tokenUrl": server.token_url,
        "scopes": {"read": "read"},
    }
    return package(
        "Legacy OAuth",
        oauth_parameters(server, mode="Global"),
        host=server.base_url,
        security={"oauth2_auth": scheme},
    )


def _connect(page: Any, connector: str) -> str:
    """Create a connection to ``connector`` in the browser, sign in, come back: its id."""
    page.goto(f"/e/default/connections/new?connector={connector}")
    page.click("button:has-text('Create')")
    try:
        page.wait_for_url(re.compile(r"/e/default/connections/[^/?]+\?consent=connected$"))
    except Exception:
        raise AssertionError(f"not back connected: {page.url}\n{page.content()[:3000]}") from None
    assert page.locator("#connection-status").inner_text() == "connected"
    return str(page.url.split("?")[0].rsplit("/", 1)[-1])


def test_oauth_in_the_browser_and_the_redirect_migration(
    oauth_page,
    oauth_portal: Portal,
    oauth_server: OAuthServer,  # noqa: F811  (the fixture imported above)
    axe_violations,
) -> None:
    page, portal = oauth_page, oauth_portal
    maker = portal.user("oauth-maker")
    ring = KeyRing.from_settings(portal.settings)
    page.context.add_cookies([portal.session_cookie(maker)])

    # A connector with its own redirect URL: consent in the browser, back connected, test.
    own = services.create_connector(portal.db, maker, "default", oauth_package(oauth_server), name="idp")
    own_url = f"{portal.url}/redirect/{own.id}"
    register_redirect(oauth_server, own_url)
    page.goto("/e/default/connections/new?connector=idp")
    assert page.locator("#redirect-url").inner_text() == own_url
    connection_id = _connect(page, "idp")
    page.fill("#test-operation", "Me")
    page.click("button:has-text('Test connection')")
    result = page.locator("#test-result").inner_text()
    assert "Works" in result and "HTTP 200" in result
    tokens = stored_tokens(portal.db, ring, connection_id)
    assert tokens is not None and tokens.access_token
    html = page.content()
    for secret in (tokens.access_token, tokens.refresh_token, oauth_server.web_client_secret):
        assert secret and secret not in html
    assert axe_violations(page) == []

    # A connector still on the global redirect URI, past the enforcement date: refused, migrated.
    legacy = services.create_connector(
        portal.db, maker, "default", _legacy_package(oauth_server), name="legacy"
    )
    register_redirect(oauth_server, f"{portal.url}/redirect")
    services.set_environment_settings(
        portal.db, portal.admin, "default", oauth_global_redirect_enforcement=date.today()
    )
    page.goto("/e/default/connections/new?connector=legacy")
    assert page.locator("#redirect-url").inner_text() == f"{portal.url}/redirect"
    page.click("button:has-text('Create')")
    assert "GlobalPerConnector" in page.locator("#findings").inner_text()
    # The wizard's Security tab: "Update to unique redirect URL", as in Power Platform's portal.
    page.goto("/e/default/connectors/legacy/edit/security")
    page.check("text=Update to unique redirect URL")
    page.click("text=Save and stay")
    try:
        page.wait_for_url(re.compile(r"/edit/security\?saved=1$"))
    except Exception:
        raise AssertionError(f"not saved: {page.url}\n{page.inner_text('main')[:3000]}") from None
    unique = f"{portal.url}/redirect/{legacy.id}"
    assert page.locator("#redirect-url").inner_text() == unique
    page.goto("/e/default/connections/new?connector=legacy")
    assert page.locator("#redirect-url").inner_text() == unique
    register_redirect(oauth_server, unique)
    migrated = _connect(page, "legacy")
    assert services.get_connection(portal.db, maker, "default", migrated).status == "connected"
