from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tether.cli import app
from tether.cli.demo import scores_of


def test_demo_scores_texts_through_the_invoke_endpoint(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--home", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    assert "created Sentiment Analysis" in result.output
    assert "the demo sets it to the service's address, 127.0.0.1:" in result.output
    assert '{"network_allow": ["127.0.0.1"]}' in result.output
    assert "is connected" in result.output and "Sentiment (HTTP 200" in result.output
    positive, negative, neutral = scores_of(result.output)
    assert positive > 0.5 > negative
    assert negative < neutral < positive
    assert all(0.0 <= score <= 1.0 for score in (positive, negative, neutral))
    assert "tether invoke" in result.output and "tether flow create" in result.output
    assert "Traceback" not in result.output
    assert (tmp_path / "demo" / "tether.db").exists()
