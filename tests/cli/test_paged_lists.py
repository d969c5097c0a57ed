"""The CLI's list commands follow the API's ``next`` links, so no page is left out."""

from __future__ import annotations

from tests.cli.conftest import Cli
from tether.cli._context import fetch_items


def test_list_commands_gather_every_page(logged_in: Cli) -> None:
    for number in range(3):
        assert logged_in("env", "var", "set", f"PAGED_{number}", str(number)).exit_code == 0
    items = fetch_items(None, None, "/environments/default/variables", params={"limit": 1})
    assert [v["name"] for v in items if v["name"].startswith("PAGED_")] == ["PAGED_0", "PAGED_1", "PAGED_2"]
    listed = logged_in("env", "var", "list")
    assert listed.exit_code == 0 and all(f"PAGED_{n}" in listed.output for n in range(3)), listed.output
