from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tether.cli import app


def _run(*args: str):
    return CliRunner().invoke(app, ["expression", "eval", *args])


def test_prints_the_typed_result_as_json(tmp_path: Path) -> None:
    context = tmp_path / "context.json"
    context.write_text(json.dumps({"variables": {"items": [3, 1, 2]}, "utcNow": "2024-03-30T12:00:00Z"}))
    result = _run("@sort(variables('items'))", "--context", str(context))
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [1, 2, 3]
    dated = _run("@formatDateTime(addDays(utcNow(), 1), 'yyyy-MM-dd')", "-c", str(context))
    assert json.loads(dated.output) == "2024-03-31"


def test_syntax_error_shows_the_column() -> None:
    result = _run("@concat('a', ")
    assert result.exit_code == 2
    assert "column 14" in result.output and "^" in result.output
    assert "Traceback" not in result.output


def test_bad_context_file_is_one_line(tmp_path: Path) -> None:
    context = tmp_path / "context.json"
    context.write_text("{nope")
    result = _run("@1", "-c", str(context))
    assert result.exit_code == 2
    assert f"{context}:1:2: invalid JSON" in result.output


def test_context_file_that_is_not_an_object_is_refused(tmp_path: Path) -> None:
    # An empty array (or false, or null) used to pass as an empty context without a word.
    context = tmp_path / "context.json"
    for text in ("[]", "null", "[1]"):
        context.write_text(text)
        result = _run("@1", "-c", str(context))
        assert result.exit_code == 2, result.output
        assert f"{context}: the context must be a JSON object" in result.output


def test_output_is_one_line_when_piped_or_asked() -> None:
    # CliRunner's stdout is not a terminal: compact by default, as a script piping the output wants.
    piped = _run('json(\'{"a": [1, 2], "b": {"c": null}}\')')
    assert piped.exit_code == 0, piped.output
    assert piped.output == '{"a":[1,2],"b":{"c":null}}\n'
    assert _run("createArray(1, 2)", "--compact").output == "[1,2]\n"
    indented = _run("createArray(1, 2)", "--indent")
    assert indented.output == "[\n  1,\n  2\n]\n"


def test_text_with_templates_is_evaluated_as_a_template() -> None:
    result = _run("Hello @{toUpper('ada')}, you have @{add(1, 2)} items")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == "Hello ADA, you have 3 items"
    broken = _run("Hello @{toUpper('ada'}")
    assert broken.exit_code == 2 and "expected" in broken.output and "Traceback" not in broken.output


def test_decimal_prints_with_its_scale() -> None:
    assert _run("decimal('5.0000')").output == "5.0000\n"
