"""Acceptance 3: axe-core finds no serious or critical violation on the connector list and the
wizard's five tabs (at 1280x800 and on a phone-sized screen)."""

from __future__ import annotations

import pytest

from tests._paths import EXAMPLE_CONNECTOR
from tests.portal.conftest import Portal
from tether import services
from tether.definition import load_package


@pytest.fixture(scope="module")
def example_connector(portal: Portal) -> str:
    files = dict(load_package(EXAMPLE_CONNECTOR).files)
    files.pop("settings.json", None)
    from tether.definition import package_from_files

    info = services.create_connector(
        portal.db, portal.admin, "default", package_from_files(files), name="axe-example"
    )
    return info.name


PAGES = [
    "/e/default/connectors",
    "/e/default/connectors/new",
    "/e/default/connectors/{c}/edit/general",
    "/e/default/connectors/{c}/edit/security",
    "/e/default/connectors/{c}/edit/definition?op=Sentiment",
    "/e/default/connectors/{c}/edit/definition?view=editor",
    "/e/default/connectors/{c}/edit/code",
    "/e/default/connectors/{c}/edit/test",
]


def test_connector_list_and_wizard_tabs_have_no_serious_violation(
    signed_in_page, example_connector: str, axe_violations
) -> None:
    page = signed_in_page
    found = {}
    for path in PAGES:
        response = page.goto(path.format(c=example_connector))
        assert response.status == 200, path
        violations = axe_violations(page)
        if violations:
            found[path] = violations
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.goto(f"/e/default/connectors/{example_connector}/edit/definition?op=Sentiment")
    if violations := axe_violations(page):
        found["phone: definition"] = violations
    assert found == {}
