"""Sign-in, session cookie, CSRF, CSP, tokens and error pages of the portal."""

from __future__ import annotations

import re

import httpx

from tests.portal.conftest import ADMIN_PASSWORD, USER_PASSWORD, Portal, csrf_of
from tether import services
from tether.api import create_app, serve_in_thread


def test_sign_in_lands_on_connectors_and_sign_out_ends_the_session(page, portal: Portal) -> None:
    page.goto("/me")
    assert page.url.startswith(f"{portal.url}/login?next=%2Fme")
    page.get_by_label("User name").fill("admin")
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{portal.url}/me")
    cookie = next(c for c in page.context.cookies() if c["name"] == "tether_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    page.get_by_role("link", name="Connectors").click()
    page.wait_for_url(re.compile(r".*/e/default/connectors$"))
    assert page.get_by_role("heading", name="Connectors", exact=True).is_visible()

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{portal.url}/login")
    # The session token was revoked, not only forgotten by this browser.
    response = httpx.get(f"{portal.url}/me", cookies={"tether_session": cookie["value"]})
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_wrong_password_is_shown_on_the_form_and_throttled(portal: Portal) -> None:
    """On a server of its own: the throttle also counts per client address, and every test is 127.0.0.1."""
    portal.user("mallory-target")
    with serve_in_thread(create_app(portal.settings, portal.db)) as url, httpx.Client(base_url=url) as client:
        token = csrf_of(client.get("/login").text)
        answers = [
            client.post(
                "/login", data={"username": "mallory-target", "password": "nope", "csrf_token": token}
            )
            for _ in range(portal.settings.login_failures_per_minute + 1)
        ]
        assert answers[0].status_code == 401 and "Wrong username or password." in answers[0].text
        assert answers[-1].status_code == 429 and "Traceback" not in answers[-1].text
        right = client.post(
            "/login", data={"username": "mallory-target", "password": USER_PASSWORD, "csrf_token": token}
        )
        assert right.status_code == 429  # even the right password waits out the window
        assert "tether_session" not in client.cookies


def test_a_form_post_without_the_csrf_token_is_refused(portal: Portal) -> None:
    cookie = portal.session_cookie(portal.admin)
    with httpx.Client(base_url=portal.url, cookies={"tether_session": cookie["value"]}) as client:
        page = client.get("/me")
        token = csrf_of(page.text)
        refused = client.post("/me/tokens", data={"name": "forged"})
        assert refused.status_code == 403
        assert "security token" in refused.text and "Traceback" not in refused.text
        forged = client.post("/me/tokens", data={"name": "forged", "csrf_token": "0" * 64})
        assert forged.status_code == 403
        # An htmx request carries the token in a header instead.
        accepted = client.post("/me/tokens", data={"name": "real"}, headers={"X-CSRF-Token": token})
        assert accepted.status_code == 200 and "tth_" in accepted.text
    names = [t.name for t in services.list_tokens(portal.db, portal.admin)]
    assert "forged" not in names and "real" in names


def test_pages_carry_a_strict_csp_and_no_inline_script_or_style(portal: Portal) -> None:
    cookie = portal.session_cookie(portal.admin)
    with httpx.Client(base_url=portal.url, cookies={"tether_session": cookie["value"]}) as client:
        for path in ("/login", "/me", "/e/default/connectors"):
            answer = httpx.get(f"{portal.url}{path}") if path == "/login" else client.get(path)
            assert answer.status_code == 200, path
            csp = answer.headers["content-security-policy"]
            assert "script-src 'self';" in csp and "unsafe-inline" not in csp
            assert answer.headers["x-frame-options"] == "DENY"
            html = answer.text
            assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
            assert not re.search(r"\sstyle=|\son[a-z]+=", html), path


def test_tokens_are_created_once_shown_and_revoked(signed_in_page, portal: Portal) -> None:
    page = signed_in_page
    page.goto("/me")
    page.get_by_label("Name", exact=True).fill("laptop CLI")
    page.get_by_role("button", name="Create token").click()
    token = page.locator("#new-token").inner_text()
    assert token.startswith("tth_")
    assert (
        httpx.get(f"{portal.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    )
    page.get_by_role("button", name="Revoke token laptop CLI").click()
    page.wait_for_url(f"{portal.url}/me")
    assert page.locator("#new-token").count() == 0  # never shown again
    assert (
        httpx.get(f"{portal.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    )


def test_errors_are_pages_without_a_traceback(signed_in_page) -> None:
    page = signed_in_page
    response = page.goto("/e/no-such-env/connectors")
    assert response.status == 404
    assert page.get_by_role("heading", name="Not found").is_visible()
    assert "Traceback" not in page.content()


def test_an_empty_environment_shows_the_next_step(portal: Portal) -> None:
    services.create_environment(portal.db, portal.admin, "empty-env", display_name="Empty")
    cookie = portal.session_cookie(portal.admin)
    answer = httpx.get(f"{portal.url}/e/empty-env/connectors", cookies={"tether_session": cookie["value"]})
    assert answer.status_code == 200
    assert "No connectors yet" in answer.text and 'href="/e/empty-env/connectors/new"' in answer.text
