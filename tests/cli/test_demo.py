from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tether.cli import app


def test_demo_runs_the_tour_end_to_end(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--home", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    assert "created Sentiment Analysis" in result.output
    assert "sentiment-analysis" in result.output  # the list shows it
    assert "bytes (a zip in paconn's layout)" in result.output
    assert "Traceback" not in result.output
    assert (tmp_path / "demo" / "tether.db").exists()
