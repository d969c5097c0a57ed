"""Connections in the browser: create from a connector's form (parameter-set choice, every field
type, secure strings), test against a real API, edit, delete; another user's connection can be
neither seen nor used; no secret in any page source. Plus axe on the connection page."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator

import pytest

from tests.flows.engine._support import Backend
from tests.portal.conftest import Portal, csrf_of
from tests.services._connections_kit import package, secure, text
from tether import services
from tether.secrets import KeyRing

API_KEY = "key-4f7d0c2e9b1a"
PASSWORD = "pw-93a7e1c05d2b"


@pytest.fixture(scope="module")
def web() -> Iterator[Backend]:
    server = Backend()
    yield server
    server.close()


@pytest.fixture(scope="module")
def conn_env(portal: Portal) -> str:
    admin = portal.admin
    services.create_environment(portal.db, admin, "conns", display_name="Connections")
    services.set_environment_settings(portal.db, admin, "conns", network_allow=["127.0.0.1"])
    return "conns"


def _multi_auth(web: Backend) -> object:
    sets = [
        {
            "name": "key",
            "uiDefinition": {"displayName": "API key"},
            "parameters": {"api_key": secure("API key")},
        },
        {
            "name": "basic",
            "uiDefinition": {"displayName": "User name and password"},
            "parameters": {
                "username": text("User name"),
                "password": secure("Password"),
                "region": text("Region", required=False, allowedValues=[{"text": "Europe", "value": "eu"}]),
                "pages": {"type": "int", "uiDefinition": {"displayName": "Pages"}},
                "verbose": {"type": "bool", "uiDefinition": {"displayName": "Verbose"}},
            },
        },
    ]
    return package(
        "Echo API",
        {"legacy": secure("Old")},
        sets=sets,
        host=web.url,
        security={
            "key": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
            "basic": {"type": "basic"},
        },
        paths={"/echo/me": {"get": {"operationId": "Me", "responses": {"200": {"description": "ok"}}}}},
    )


def test_create_test_edit_and_delete_a_connection(
    page, portal: Portal, web: Backend, conn_env: str, axe_violations
) -> None:
    owner = portal.user("conn-owner", environment=conn_env)
    services.create_connector(portal.db, owner, conn_env, _multi_auth(web), name="echo")
    page.context.add_cookies([portal.session_cookie(owner)])

    page.goto(f"/e/{conn_env}/connections")
    assert "No connections yet" in page.content()
    page.select_option("#new-connector", "echo")
    page.click("text=Continue")
    page.wait_for_url(re.compile("/connections/new"))
    # The user picks the second way to connect and fills each field type.
    page.check("text=User name and password")
    page.fill("#conn-name", "My echo")
    page.fill('[name="param:basic:password"]', PASSWORD)
    assert page.get_attribute('[name="param:basic:password"]', "type") == "password"
    page.select_option('[name="param:basic:region"]', "eu")
    page.fill('[name="param:basic:pages"]', "3")
    page.select_option('[name="param:basic:verbose"]', "true")
    page.click("button:has-text('Create')")  # no user name: the services name the field
    assert "'User name' is required" in page.locator("#findings").inner_text()
    assert PASSWORD not in page.content()  # a refused form never echoes a secret back
    page.check("text=User name and password")
    page.fill('[name="param:basic:username"]', "ada")
    page.fill('[name="param:basic:password"]', PASSWORD)
    page.fill('[name="param:basic:pages"]', "3")
    page.click("button:has-text('Create')")
    page.wait_for_url(re.compile(r"/connections/[^/]+\?created=1$"))
    assert page.locator("#connection-status").inner_text() == "connected"
    assert "password" in page.content() and PASSWORD not in page.content()
    here = page.url.split("?")[0]

    page.fill("#test-operation", "Me")
    page.click("button:has-text('Test connection')")
    result = page.locator("#test-result").inner_text()
    assert "Works" in result and "HTTP 200" in result
    sent = web.seen("/echo/me")[-1].headers
    assert sent.get("Authorization") == "Basic " + base64.b64encode(f"ada:{PASSWORD}".encode()).decode()
    assert PASSWORD not in page.content()
    assert axe_violations(page) == []

    # Edit: a new name; a blank password keeps the stored one.
    page.fill("#edit-name", "Echo, renamed")
    page.click("section:has(#edit-h) button:has-text('Save')")
    page.wait_for_url(re.compile(r"\?saved=1$"))
    assert page.locator("h1").inner_text() == "Echo, renamed"
    page.fill("#test-operation", "Me")
    page.click("button:has-text('Test connection')")
    assert "Works" in page.locator("#test-result").inner_text()

    for path in (
        f"/e/{conn_env}/connections",
        here,
        f"/e/{conn_env}/connections/new?connector=echo",
        f"/e/{conn_env}/connectors/echo",
        f"/e/{conn_env}/flows",
        "/me",
    ):
        page.goto(path)
        assert PASSWORD not in page.content(), path  # nowhere in the portal, in any page source
    page.goto(here)
    page.click("button:has-text('Delete connection')")
    page.wait_for_url(re.compile(f"/e/{conn_env}/connections$"))
    assert "No connections yet" in page.content()


def test_another_users_connection_cannot_be_seen_or_used(
    page, portal: Portal, web: Backend, conn_env: str
) -> None:
    alice = portal.user("conn-alice", environment=conn_env)
    bob = portal.user("conn-bob", environment=conn_env)
    services.create_connector(portal.db, alice, conn_env, _multi_auth(web), name="alices-echo")
    info = services.create_connection(
        portal.db, alice, conn_env, "alices-echo", {"api_key": API_KEY}, parameter_set="key",
        keyring=KeyRing.from_settings(portal.settings), public_url=portal.settings.public_url,
    )  # fmt: skip
    page.context.add_cookies([portal.session_cookie(bob)])

    page.goto(f"/e/{conn_env}/connections")
    assert info.id not in page.content()
    answer = page.goto(f"/e/{conn_env}/connections/{info.id}")
    assert answer is not None and answer.status == 404
    token = csrf_of(page.content())
    for action in ("test", "edit", "sign-in", "delete"):
        refused = page.request.post(
            f"/e/{conn_env}/connections/{info.id}/{action}", form={"csrf_token": token, "operation": "Me"}
        )
        assert refused.status == 404, action
    # Nor can a flow borrow it: the editor shows the services' refusal.
    page.goto(f"/e/{conn_env}/flows/new")
    page.fill("#flow-name", "borrower")
    call = {
        "type": "ApiConnection",
        "inputs": {
            "host": {"connection": {"name": "@parameters('$connections')['echo']['connectionId']"}},
            "method": "get",
            "path": "/echo/me",
        },
    }
    borrowing = {"triggers": {}, "actions": {"Call": call}}
    page.fill("#flow-definition", json.dumps(borrowing))
    page.click("button[value=check]")
    select = page.locator('select[name="conn:echo"]')
    assert info.id not in select.inner_html()  # not offered
    form = {
        "csrf_token": csrf_of(page.content()),
        "name": "borrower",
        "definition": page.input_value("#flow-definition"),
        "conn:echo": info.id,
        "intent": "save",
    }
    forced = page.request.post(f"/e/{conn_env}/flows/new", form=form)
    assert forced.status in (403, 404, 422) and API_KEY not in forced.text()
    assert all(f.name != "borrower" for f in services.list_flows(portal.db, bob, conn_env))
    assert not any(r.path == "/echo/me" and r.headers.get("X-Api-Key") == API_KEY for r in web.requests)
