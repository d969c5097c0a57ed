"""The events page (what each user may see) and the webhooks page (admins): create shows the
signing secret once, a test event becomes a listed delivery, replay and delete work; no secret
is on the page afterwards, and the pages pass axe."""

from __future__ import annotations

import re

from tests.portal.conftest import Portal, csrf_of
from tests.services._connections_kit import package
from tether import services
from tether.store import Webhooks


def test_events_page_shows_only_what_the_user_may_see(page, portal: Portal, axe_violations) -> None:
    services.create_environment(portal.db, portal.admin, "evpage", display_name="Events page")
    alice = portal.user("ev-alice", environment="evpage")
    portal.user("ev-bob", environment="evpage")
    bob = services.authenticate_password(portal.db, "ev-bob", "portal-user-password")
    services.create_connector(portal.db, alice, "evpage", package("Alice API"), name="alice-api")
    services.create_connector(portal.db, bob, "evpage", package("Bob API"), name="bob-api")
    page.context.add_cookies([portal.session_cookie(bob)])
    page.goto("/e/evpage/events")
    table = page.locator("table").inner_text()
    assert "bob-api" in table and "connector.created" in table and "alice-api" not in table
    assert axe_violations(page) == []
    page.goto("/e/evpage/events?type=nope")
    assert "not an event type" in page.content()


def test_admin_manages_webhooks_and_sees_deliveries(signed_in_page, portal: Portal, axe_violations) -> None:
    page = signed_in_page
    services.create_environment(portal.db, portal.admin, "hookpage", display_name="Hook page")
    page.goto("/e/hookpage/webhooks")
    page.fill("#url", "https://hooks.example.test/tether")
    page.fill("#event-types", "connector. run.failed")
    page.fill("#description", "Ops hook")
    page.click("button:text-is('Create')")
    page.wait_for_selector("code.secret")
    secret = re.search(r"whsec_[A-Za-z0-9+/=]+", page.content())
    assert secret is not None and "shown this once" in page.content()
    assert axe_violations(page) == []
    page.goto("/e/hookpage/webhooks")  # never shown again
    assert secret.group(0) not in page.content() and "Ops hook" in page.content()
    page.click("text=Send test event")
    page.wait_for_selector("text=webhook.test")
    hook = services.list_webhooks(portal.db, portal.admin, "hookpage")[0]
    delivery = services.list_deliveries(portal.db, portal.admin, "hookpage", hook.id)[0]
    replayed = page.request.post(
        f"/e/hookpage/webhooks/{hook.id}/deliveries/{delivery.id}/replay",
        form={"csrf_token": csrf_of(page.content())},
    )
    assert replayed.ok
    newest = services.list_deliveries(portal.db, portal.admin, "hookpage", hook.id)[0]
    assert newest.replay_of == delivery.id
    page.goto("/e/hookpage/webhooks")
    page.click("text=Delete")
    assert services.list_webhooks(portal.db, portal.admin, "hookpage") == []
    with portal.db.session() as session:
        assert Webhooks(session).get(hook.id) is None
