"""Admin pages in the browser: users, environments and their settings, every connector with its
redirect mode — and a 403 page for everyone the services refuse."""

from __future__ import annotations

import re
from datetime import date

from tests.portal.conftest import Portal, csrf_of
from tests.services._connections_kit import package
from tether import services


def _oauth(mode: str) -> dict:
    settings = {
        "identityProvider": "oauth2",
        "clientId": "app",
        "clientSecret": "client-secret-admin-view-0d9c",
        "scopes": [],
        "redirectMode": mode,
        "customParameters": {
            "authorizationUrl": {"value": "https://idp.example/authorize"},
            "tokenUrl": {"value": "https://idp.example/token"},
        },
    }
    return {"token": {"type": "oauthSetting", "oAuthSettings": settings}}


def test_non_admins_get_the_403_page(page, portal: Portal) -> None:
    services.create_environment(portal.db, portal.admin, "adm403", display_name="Admin 403")
    maker = portal.user("not-an-admin", environment="adm403", role="maker")
    page.context.add_cookies([portal.session_cookie(maker)])
    for path in ("/admin", "/admin/environments/adm403"):
        answer = page.goto(path)
        assert answer is not None and answer.status == 403, path
        assert "Not allowed" in page.content() and "Traceback" not in page.content()
    assert page.locator("nav >> text=Admin").count() == 0  # not offered either
    token = csrf_of(page.content())
    refused = page.request.post(
        "/admin/environments/adm403/settings", form={"csrf_token": token, "network_allow": "10.0.0.0/8"}
    )
    assert refused.status == 403
    assert services.get_environment_settings(portal.db, portal.admin, "adm403").network_allow == ()


def test_admin_sees_users_settings_and_redirect_modes(signed_in_page, portal: Portal, axe_violations) -> None:
    page = signed_in_page
    admin = portal.admin
    services.create_environment(portal.db, admin, "admview", display_name="Admin view")
    owner = portal.user("adm-owner", environment="admview")
    legacy = services.create_connector(
        portal.db, owner, "admview", package("Legacy", _oauth("Global")), name="legacy"
    )
    fresh = services.create_connector(
        portal.db, owner, "admview", package("Fresh", _oauth("GlobalPerConnector")), name="fresh"
    )
    page.goto("/admin")
    users = page.locator("#users-h + .table-wrap").inner_text()
    assert "admin" in users and "adm-owner" in users
    page.click("text=Admin view")
    page.wait_for_url(re.compile("/admin/environments/admview$"))
    rows = page.locator("#connectors-h + .table-wrap tbody tr")
    texts = {rows.nth(i).inner_text().split()[0]: rows.nth(i).inner_text() for i in range(rows.count())}
    assert "Global" in texts["Legacy"] and "to migrate" in texts["Legacy"]
    assert f"{portal.settings.public_url}/redirect" in texts["Legacy"]
    assert f"/redirect/{fresh.id}" in texts["Fresh"] and "to migrate" not in texts["Fresh"]
    assert legacy.id  # the legacy row shows the shared URL, not its own
    assert "client-secret-admin-view-0d9c" not in page.content()

    # A bad entry is shown on the form; a good one is saved.
    page.fill("#network-allow", "not a host!!")
    page.click("text=Save settings")
    assert "not a host" in page.locator(".alert.error").inner_text()
    page.fill("#network-allow", "127.0.0.1\n10.0.0.0/8")
    page.fill("#enforcement", "2030-01-31")
    page.click("text=Save settings")
    page.wait_for_url(re.compile(r"\?saved=1$"))
    saved = services.get_environment_settings(portal.db, admin, "admview")
    assert saved.network_allow == ("127.0.0.1", "10.0.0.0/8")
    assert saved.oauth_global_redirect_enforcement == date(2030, 1, 31)
    assert axe_violations(page) == []
