"""``tether invoke`` against a real server calling a real local echo service."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.cli.conftest import Cli
from tests.services._invoke_kit import KEY, echo_app, echo_package, values_for
from tether.api import serve_in_thread
from tether.cli.invoke import parse_arguments
from tether.errors import InputError


@pytest.fixture(scope="module")
def echo_host() -> Iterator[str]:
    with serve_in_thread(echo_app()) as url:  # type: ignore[arg-type]
        yield url.removeprefix("http://")


@pytest.mark.parametrize(
    ("pairs", "body", "expected"),
    [
        pytest.param(["n=5", "s=abc", "l=[1,2]", "t=true"], None,
                     {"n": 5, "s": "abc", "l": [1, 2], "t": True}, id="json-or-text"),
        pytest.param(["q=a=b"], '{"x": 1}', {"q": "a=b", "body": {"x": 1}}, id="body-json"),
    ],
)  # fmt: skip
def test_arguments_parse_json_else_text(
    pairs: list[str], body: str | None, expected: dict[str, object]
) -> None:
    assert parse_arguments(pairs, body) == expected


def test_body_from_a_file_and_bad_input(tmp_path: Path) -> None:
    file = tmp_path / "body.json"
    file.write_text('{"documents": []}')
    assert parse_arguments([], f"@{file}") == {"body": {"documents": []}}
    for pairs, body in ((["novalue"], None), ([], "{not json"), ([], f"@{tmp_path / 'missing.json'}")):
        with pytest.raises(InputError):
            parse_arguments(pairs, body)


def test_invoke_prints_status_and_body(logged_in: Cli, echo_host: str, tmp_path: Path) -> None:
    credentials = json.loads((tmp_path / "cli-home" / "credentials.json").read_text())
    headers = {"Authorization": f"Bearer {credentials['token']}"}
    base = f"{logged_in.url}/api/v1/environments/default"
    package = echo_package(echo_host, "header", title="Echo CLI")
    with httpx.Client(headers=headers, timeout=30) as http:
        connector = http.post(
            f"{base}/connectors", files={"package": ("e.zip", package.to_zip(), "application/zip")}
        ).json()
        assert http.put(f"{base}/settings", json={"network_allow": ["127.0.0.1"]}).status_code == 200
        connection = http.post(
            f"{base}/connections", json={"connector": connector["id"], "parameters": values_for("header")}
        ).json()["id"]
    result = logged_in("invoke", connection, "PostItem", "--arg", "item=seven", "--body", '{"n": 1}')
    assert result.exit_code == 0, result.output
    assert result.output.startswith("200 application/json")
    assert '"saw_key": true' in result.output and '"n": 1' in result.output and KEY not in result.output
    as_json = logged_in("invoke", connection, "Unauthorized", "--json")
    assert as_json.exit_code == 1  # the API answered 401: scripts can tell
    assert json.loads(as_json.output)["status"] == 401
    missing = logged_in("invoke", connection, "NoSuchOperation")
    assert missing.exit_code != 0 and "NoSuchOperation" in missing.output
