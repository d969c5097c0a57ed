"""The connector list: search as you type (htmx, same URL as the plain GET form), filters, icons."""

from __future__ import annotations

import json
import re

from tests._paths import EXAMPLE_CONNECTOR
from tests.portal.conftest import Portal
from tether import services
from tether.definition import DEFINITION_FILE, load_package, package_from_files


def _connector(portal: Portal, name: str, title: str) -> None:
    files = dict(load_package(EXAMPLE_CONNECTOR).files)
    files.pop("settings.json", None)
    definition = json.loads(files[DEFINITION_FILE])
    definition["info"]["title"] = title
    files[DEFINITION_FILE] = json.dumps(definition).encode()
    services.create_connector(portal.db, portal.admin, "default", package_from_files(files), name=name)


def test_search_filters_as_you_type_and_keeps_the_url(signed_in_page, portal: Portal) -> None:
    _connector(portal, "zebra-finder", "Zebra Finder")
    _connector(portal, "yak-tracker", "Yak Tracker")
    page = signed_in_page
    page.goto("/e/default/connectors")
    with page.expect_request(re.compile(r".*/e/default/connectors\?q=zebra.*")):
        page.get_by_label("Search").fill("zebra")
    page.wait_for_url(re.compile(r".*\?q=zebra.*"))
    assert page.get_by_role("link", name="Zebra Finder").is_visible()
    assert page.get_by_role("link", name="Yak Tracker").count() == 0
    assert re.match(r"1 of \d+ connectors", page.get_by_role("status").inner_text())

    page.get_by_label("Authentication").select_option("oauth2")  # nobody here uses OAuth
    page.wait_for_url(re.compile(r".*auth=oauth2.*"))
    assert page.get_by_text("No connector matches these filters.").is_visible()
