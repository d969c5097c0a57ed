"""Acceptance 2: import a connector from its OpenAPI file, change a summary, see exactly that change in
the diff of the two revisions, and roll back."""

from __future__ import annotations

import json
import re

from tests._paths import EXAMPLE_CONNECTOR
from tests.portal.conftest import Portal
from tether import services
from tether.definition import DEFINITION_FILE


def test_import_edit_diff_and_rollback(signed_in_page, portal: Portal) -> None:
    page = signed_in_page
    page.on("dialog", lambda dialog: dialog.accept())  # the rollback button asks for confirmation
    page.goto("/e/default/connectors/import")
    page.get_by_label("OpenAPI 2 or 3 (JSON or YAML)").check()
    page.get_by_label("File (OpenAPI, Postman, WSDL, or the sample request)").set_input_files(
        str(EXAMPLE_CONNECTOR / DEFINITION_FILE)
    )
    page.get_by_role("button", name="Import", exact=True).click()
    assert page.get_by_role("heading", name="Import report (OpenAPI 2 or 3 (JSON or YAML))").is_visible()
    name = re.search(
        r"/connectors/([^/]+)/edit/", page.get_by_role("link", name="3. Definition").get_attribute("href")
    )
    assert name is not None
    connector = name.group(1)

    page.get_by_role("link", name="3. Definition").click()
    page.get_by_role("link", name="Sentiment", exact=True).click()
    page.get_by_label("Summary").first.fill("Score the sentiment")
    page.get_by_role("button", name="Update operation").click()
    page.wait_for_url(re.compile(r".*/edit/definition\?op=Sentiment&saved=1$"))

    page.goto(f"/e/default/connectors/{connector}")
    page.get_by_role("link", name="Compare revisions").click()
    changed = page.locator("table.diff tr.changed, table.diff tr.added, table.diff tr.removed")
    assert changed.count() == 1
    row = changed.first.locator("td")
    assert '"summary": "Detect sentiment",' in row.nth(1).inner_text()
    assert '"summary": "Score the sentiment",' in row.nth(3).inner_text()
    assert page.locator("table.diff").count() == 1  # apiProperties.json did not change
    assert page.locator("table.diff").get_attribute("data-file") == DEFINITION_FILE

    page.goto(f"/e/default/connectors/{connector}")
    page.get_by_role("button", name="Roll back to revision 1").click()
    assert page.get_by_role("status").filter(has_text="Revision 1 restored as revision 3.").is_visible()
    files = services.get_revision_files(portal.db, portal.admin, "default", connector)
    definition = json.loads(files[DEFINITION_FILE])
    assert definition["paths"]["/sentiment"]["post"]["summary"] == "Detect sentiment"
