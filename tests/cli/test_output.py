"""What list commands print when stdout is not a terminal."""

from __future__ import annotations

import pytest
from rich.markup import escape

from tether.cli._output import print_items


def test_piped_tables_keep_whole_cells_tab_separated(capsys: pytest.CaptureFixture[str]) -> None:
    long_id = "0f" * 60  # wider than any terminal's default 80 columns
    items = [{"id": long_id, "name": "[not markup] x"}, {"id": "short", "name": "y"}]
    row = lambda i: (i["id"], f"[bold]{escape(i['name'])}[/]")  # noqa: E731 -- as the list commands write rows
    print_items(items, as_json=False, row=row, columns=("id", "name"))
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["id\tname", f"{long_id}\t[not markup] x", "short\ty"]
