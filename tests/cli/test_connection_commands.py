"""``tether connection …`` and ``tether admin rotate-key`` against a real server (no secret ever echoed)."""

from __future__ import annotations

import json

import pytest

from tests.services._connections_kit import api_key_package, package

SECRET = "cli-secret-value-6d2f0b"
OAUTH = {
    "token": {
        "type": "oauthSetting",
        "oAuthSettings": {
            "identityProvider": "oauth2",
            "clientId": "c",
            "scopes": ["read"],
            "customParameters": {
                "authorizationUrl": {"value": "http://127.0.0.1:9/authorize"},
                "tokenUrl": {"value": "http://127.0.0.1:9/token"},
            },
        },
    }
}


def _write(tmp_path, pkg, folder: str):
    target = tmp_path / folder
    target.mkdir()
    for name, content in pkg.files.items():
        (target / name).write_bytes(content)
    return target


@pytest.fixture
def keyed(logged_in, tmp_path):
    name = f"keyed-{tmp_path.name[-8:]}".lower().replace("_", "-")
    result = logged_in("connector", "create", str(_write(tmp_path, api_key_package(), "pkg")), "--name", name)
    assert result.exit_code == 0, result.output
    return name


def test_create_show_list_update_delete_never_echo_secrets(logged_in, keyed) -> None:
    created = logged_in("connection", "create", keyed, "--param", f"api_key={SECRET}", "--no-input", "--json")
    assert created.exit_code == 0, created.output
    info = json.loads(created.stdout)
    assert info["status"] == "connected" and info["parameters"] == ["api_key"]
    shown = logged_in("connection", "show", info["id"])
    assert "parameters set: api_key" in shown.stdout
    listed = logged_in("connection", "list", "--json")
    assert info["id"] in [c["id"] for c in json.loads(listed.stdout)]
    updated = logged_in(
        "connection", "update", info["id"], "--param", "api_key=other-secret-1", "--name", "New"
    )
    assert updated.exit_code == 0 and "New" in updated.stdout
    tested = logged_in("connection", "test", info["id"], "--path", "/")
    assert tested.exit_code == 1 and "failed" in tested.stdout
    deleted = logged_in("connection", "delete", info["id"], "--yes")
    assert deleted.exit_code == 0
    for result in (created, shown, listed, updated, tested, deleted):
        assert SECRET not in result.output and "other-secret-1" not in result.output


def test_create_prompts_with_hidden_input(logged_in, keyed) -> None:
    result = logged_in("connection", "create", keyed, input=f"{SECRET}\n")
    assert result.exit_code == 0, result.output
    assert "API key" in result.output and SECRET not in result.output and "connected" in result.output


def test_bad_values_are_one_clear_error(logged_in, keyed) -> None:
    result = logged_in("connection", "create", keyed, "--no-input", "--param", "nope=1")
    assert result.exit_code == 2
    assert "api_key" in result.output and "nope" in result.output and "Traceback" not in result.output


def test_oauth_create_prints_the_consent_url_and_waits(logged_in, tmp_path) -> None:
    folder = _write(tmp_path, package("CLI OAuth", OAUTH), "oauth")
    saved = logged_in("connector", "create", str(folder), "--name", "cli-oauth")
    assert saved.exit_code == 0 and "OAuth redirect URL (GlobalPerConnector)" in saved.stdout
    result = logged_in("connection", "create", "cli-oauth", "--no-input", "--timeout", "1.5")
    assert result.exit_code == 2
    assert "/consent/" in result.output and "did not finish within 1.5 s" in result.output


def test_admin_rotate_key(logged_in) -> None:
    result = logged_in("admin", "rotate-key", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["keys"] >= 2
