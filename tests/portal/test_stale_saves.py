"""No lost updates in the portal: every edit form carries the ETag it was loaded with.

Two makers open the same connector's General tab in two browsers; A saves, B saves: B is told
who changed it and when, keeps what B typed, and A's change stays. B's second save, which carries
the new ETag the banner's page holds, overwrites by choice. The same over the portal's HTTP forms
(no browser) for a flow's JSON editor, a connection's edit form, enable/disable, delete, rollback
and the environment settings — each with the stale ETag refused (412) and nothing changed.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from tests.portal.conftest import USER_PASSWORD, Portal, csrf_of
from tests.services._connections_kit import api_key_package
from tether import services
from tether.portal._package_edit import read_general
from tether.secrets import KeyRing
from tether.services import Principal

ENV = "stale"
FLOW = {
    "triggers": {"manual": {"type": "Request", "kind": "Http"}},
    "actions": {"Echo": {"type": "Compose", "inputs": "from the start"}},
}


@pytest.fixture(scope="module")
def makers(portal: Portal) -> tuple[Principal, Principal]:
    """Ada and Bob, makers of an environment of their own (display names differ from user names)."""
    admin = portal.admin
    services.create_environment(portal.db, admin, ENV, display_name="Stale saves")
    found = []
    for username, display in (("stale-ada", "Ada Lovelace"), ("stale-bob", "Bob Builder")):
        services.create_user(portal.db, admin, username, password=USER_PASSWORD, display_name=display)
        services.add_member(portal.db, admin, ENV, username, "maker")
        found.append(services.authenticate_password(portal.db, username, USER_PASSWORD))
    return found[0], found[1]


@contextmanager
def _client(portal: Portal, principal: Principal) -> Iterator[httpx.Client]:
    """An HTTP client signed in as ``principal``, sending the portal's CSRF token."""
    cookie = portal.session_cookie(principal)
    with httpx.Client(base_url=portal.url, cookies={"tether_session": cookie["value"]}, timeout=60) as client:
        client.headers["X-CSRF-Token"] = csrf_of(client.get("/me").text)
        yield client


@pytest.fixture
def clients(portal: Portal, makers: tuple[Principal, Principal]) -> Iterator[tuple[httpx.Client, ...]]:
    with _client(portal, makers[0]) as ada, _client(portal, makers[1]) as bob:
        yield ada, bob


def _etags(page: str) -> list[str]:
    """The ETags the page's forms carry, in order."""
    return [html.unescape(v) for v in re.findall(r'name="etag" value="([^"]+)"', page)]


def _banner_names(page: str, who: str) -> None:
    text = html.unescape(page)
    assert re.search(
        rf"Changed by {who} at \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d UTC since you loaded it — reload to see "
        r"their version, or save again to overwrite",
        text,
    ), text


def _connector(portal: Portal, owner: Principal, editor: Principal, title: str) -> str:
    name = "stale-" + title.lower().replace(" ", "-")
    info = services.create_connector(portal.db, owner, ENV, api_key_package(), name=name, display_name=title)
    services.share_resource(portal.db, owner, ENV, "connector", info.name, f"user:{editor.username}", "edit")
    return info.name


def _description(portal: Portal, name: str) -> str:
    return read_general(services.get_revision_files(portal.db, portal.admin, ENV, name)).description


def test_two_makers_save_the_general_tab_and_the_second_is_told_who_changed_it(
    browser: Any, portal: Portal, makers: tuple[Principal, Principal], axe_violations: Any
) -> None:
    ada, bob = makers
    name = _connector(portal, ada, bob, "Both edit")
    url = f"/e/{ENV}/connectors/{name}/edit/general"
    pages = []
    for who in (ada, bob):
        context = browser.new_context(base_url=portal.url)
        context.set_default_timeout(20_000)  # generous: CI machines are busy
        context.add_cookies([portal.session_cookie(who)])
        pages.append(context.new_page())
    first, second = pages
    try:
        for page in pages:
            page.goto(url)  # both load revision 1
        first.fill("#description", "Ada's description")
        first.click("main button[type=submit]")
        first.wait_for_url("**/edit/security")

        second.fill("#description", "Bob's description")
        second.fill("#base_path", "/bob")
        with second.expect_response(lambda r: r.request.method == "POST") as posted:
            second.click("main button[type=submit]")
        assert posted.value.status == 412
        banner = second.locator("#stale")
        banner.wait_for()
        _banner_names(banner.inner_text(), "Ada Lovelace")
        # Bob's input is still in the form, unsaved; Ada's change is what is stored.
        assert second.input_value("#description") == "Bob's description"
        assert second.input_value("#base_path") == "/bob"
        assert _description(portal, name) == "Ada's description"
        assert services.get_connector(portal.db, ada, ENV, name).current_revision == 2
        assert second.get_attribute("#stale a", "href") == url
        assert axe_violations(second) == []  # the banner is announced (role=alert) and readable

        second.click("main button[type=submit]")  # the explicit second save: it carries the new ETag
        second.wait_for_url("**/edit/security")
        assert _description(portal, name) == "Bob's description"
        assert services.get_connector(portal.db, ada, ENV, name).current_revision == 3
    finally:
        for page in pages:
            page.context.close()


@pytest.mark.parametrize(
    ("path", "form", "kept"),
    [
        pytest.param("security", {"kind": "apiKey", "key_name": "X-Kept-Key"}, "X-Kept-Key", id="security"),
        pytest.param("code", {"script": "import json  # kept-script\n"}, "kept-script", id="code"),
        pytest.param(
            "definition/operation",
            {"operation_id": "Me", "new_id": "Me", "summary": "Kept summary"},
            "Kept summary",
            id="operation",
        ),
        pytest.param(
            "definition/sample",
            {"operation_id": "KeptOp", "verb": "GET", "url": "http://127.0.0.1:9/kept"},
            "http://127.0.0.1:9/kept",
            id="sample",
        ),
        pytest.param(
            "definition/source",
            {"source": json.dumps({"swagger": "2.0", "x-kept": 1})},
            "x-kept",
            id="editor",
        ),
    ],
)
def test_every_wizard_tab_refuses_a_stale_save_and_keeps_the_input(
    portal: Portal,
    makers: tuple[Principal, Principal],
    clients: tuple[httpx.Client, ...],
    path: str,
    form: dict[str, str],
    kept: str,
) -> None:
    ada, bob = makers
    ada_http, _ = clients
    name = _connector(portal, ada, bob, f"Tab {path.replace('/', ' ')}")
    url = f"/e/{ENV}/connectors/{name}/edit/"
    page = ada_http.get(url + path.split("/")[0] + ("?op=Me" if "operation" in path else "")).text
    etag = _etags(page)[0]
    services.update_connector(portal.db, bob, ENV, name, api_key_package("query"), note="Bob's")
    refused = ada_http.post(url + path, data={**form, "etag": etag})
    assert refused.status_code == 412, refused.text
    _banner_names(refused.text, "Bob Builder")
    assert kept in html.unescape(refused.text)
    assert services.get_connector(portal.db, ada, ENV, name).current_revision == 2  # Bob's, not Ada's
    assert _etags(refused.text)[0] != etag


def test_a_stale_flow_save_keeps_the_editors_text_and_the_winners_definition(
    portal: Portal, makers: tuple[Principal, Principal], clients: tuple[httpx.Client, ...]
) -> None:
    ada, bob = makers
    ada_http, bob_http = clients
    flow = services.create_flow(portal.db, ada, ENV, FLOW, name="stale-flow")
    services.share_resource(portal.db, ada, ENV, "flow", flow.name, f"user:{bob.username}", "edit")
    url = f"/e/{ENV}/flows/{flow.name}/edit"
    (ada_etag,), (bob_etag,) = _etags(ada_http.get(url).text), _etags(bob_http.get(url).text)
    assert ada_etag == bob_etag

    def form(text: str, etag: str) -> dict[str, str]:
        changed = {**FLOW, "actions": {"Echo": {"type": "Compose", "inputs": text}}}
        return {"definition": json.dumps(changed), "display_name": "", "intent": "save", "etag": etag}

    assert ada_http.post(url, data=form("Ada's text", ada_etag)).status_code == 303
    check = bob_http.post(url, data={**form("Bob's text", bob_etag), "intent": "check"})
    assert check.status_code == 200 and _etags(check.text) == [bob_etag]  # a check keeps Bob's ETag
    refused = bob_http.post(url, data=form("Bob's text", bob_etag))
    assert refused.status_code == 412
    _banner_names(refused.text, "Ada Lovelace")
    assert "Bob&#39;s text" in refused.text  # his definition, still in the editor
    stored = services.get_flow(portal.db, ada, ENV, flow.name)
    assert stored.definition["actions"]["Echo"]["inputs"] == "Ada's text"
    (current,) = _etags(refused.text)
    assert current != bob_etag

    assert bob_http.post(url, data=form("Bob's text", current)).status_code == 303
    stored = services.get_flow(portal.db, ada, ENV, flow.name)
    assert stored.definition["actions"]["Echo"]["inputs"] == "Bob's text"


def test_a_stale_connection_edit_keeps_the_input_but_never_a_secret(
    portal: Portal, makers: tuple[Principal, Principal], clients: tuple[httpx.Client, ...]
) -> None:
    ada, _ = makers
    ada_http, _ = clients
    connector = services.create_connector(portal.db, ada, ENV, api_key_package(), name="stale-keyed")
    connection = services.create_connection(
        portal.db, ada, ENV, connector.id, {"api_key": "first-key"},
        keyring=KeyRing.from_settings(portal.settings), public_url=portal.settings.public_url,
    )  # fmt: skip
    url = f"/e/{ENV}/connections/{connection.id}"
    first_tab, second_tab = _etags(ada_http.get(url).text), _etags(ada_http.get(url).text)
    assert len(first_tab) == 2  # the edit form and the delete form
    field = "param::api_key"
    assert (
        ada_http.post(url + "/edit", data={"display_name": "First", "etag": first_tab[0]}).status_code == 303
    )

    typed_secret = "typed-secret-7a1c"
    posted = {"display_name": "Second", field: typed_secret, "etag": second_tab[0]}
    refused = ada_http.post(url + "/edit", data=posted)
    assert refused.status_code == 412
    _banner_names(refused.text, "Ada Lovelace")
    assert 'value="Second"' in refused.text and typed_secret not in refused.text
    assert "type them again" in refused.text
    assert services.get_connection(portal.db, ada, ENV, connection.id).display_name == "First"
    deleted = ada_http.post(url + "/delete", data={"etag": second_tab[1]})
    assert deleted.status_code == 412  # a delete from the stale tab too

    current = _etags(refused.text)
    assert ada_http.post(url + "/edit", data={**posted, "etag": current[0]}).status_code == 303
    assert services.get_connection(portal.db, ada, ENV, connection.id).display_name == "Second"


def test_switches_deletes_rollbacks_and_settings_from_a_stale_page_are_refused(
    portal: Portal, makers: tuple[Principal, Principal], clients: tuple[httpx.Client, ...]
) -> None:
    ada, bob = makers
    ada_http, _ = clients
    admin = portal.admin
    flow = services.create_flow(portal.db, ada, ENV, FLOW, name="stale-switch")
    page = f"/e/{ENV}/flows/{flow.name}"
    switch_etag, delete_etag = _etags(ada_http.get(page).text)
    services.update_flow(portal.db, ada, ENV, flow.name, display_name="Renamed")
    refused = ada_http.post(page + "/disable", data={"etag": switch_etag})
    assert refused.status_code == 412 and "Renamed" in refused.text
    assert services.get_flow(portal.db, ada, ENV, flow.name).enabled
    assert ada_http.post(page + "/delete", data={"etag": delete_etag}).status_code == 412
    fresh = _etags(refused.text)
    assert ada_http.post(page + "/disable", data={"etag": fresh[0]}).status_code == 303
    assert not services.get_flow(portal.db, ada, ENV, flow.name).enabled

    name = _connector(portal, ada, bob, "Rolled")
    services.update_connector(portal.db, ada, ENV, name, api_key_package("query"), note="second")
    detail = f"/e/{ENV}/connectors/{name}"
    rollback_etag = _etags(ada_http.get(detail).text)[0]
    services.update_connector(portal.db, bob, ENV, name, api_key_package(), note="third, by Bob")
    stale = ada_http.post(detail + "/rollback", data={"revision": "1", "etag": rollback_etag})
    assert stale.status_code == 412
    _banner_names(stale.text, "Bob Builder")
    assert services.get_connector(portal.db, ada, ENV, name).current_revision == 3

    with _client(portal, admin) as admin_http:
        settings_page = f"/admin/environments/{ENV}"
        (etag,) = _etags(admin_http.get(settings_page).text)
        services.set_environment_settings(portal.db, admin, ENV, network_allow=["10.0.0.0/8"])
        posted = {"network_allow": "api.internal", "enforcement": "", "etag": etag}
        refused = admin_http.post(settings_page + "/settings", data=posted)
        assert refused.status_code == 412 and ">api.internal</textarea>" in refused.text
        assert services.get_environment_settings(portal.db, admin, ENV).network_allow == ("10.0.0.0/8",)
        (current,) = _etags(refused.text)
        again = admin_http.post(settings_page + "/settings", data={**posted, "etag": current})
        assert again.status_code == 303
        assert services.get_environment_settings(portal.db, admin, ENV).network_allow == ("api.internal",)
