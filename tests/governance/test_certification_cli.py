"""The CLI over the real server: ``tether certify``, ``tether catalog`` and ``tether env dlp``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.governance._kit import API_KEY, README, definition, package_zip, png, properties
from tests.governance.conftest import Gov
from tether.cli import app


@pytest.fixture
def tether(gov: Gov, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TETHER_HOME", str(tmp_path / "cli-home"))
    for name in ("TETHER_URL", "TETHER_TOKEN", "TETHER_ENVIRONMENT", "TETHER_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()

    def run(user: str, *args: str):
        token = gov[user].headers["Authorization"].removeprefix("Bearer ")
        return runner.invoke(app, [*args, "--server", gov.url, "--token", token])

    return run


def test_certify_catalog_and_dlp_commands(gov: Gov, tether, tmp_path: Path) -> None:
    home, elsewhere = gov.environment(), gov.environment(makers=("bob",))
    readme = tmp_path / "readme.md"
    readme.write_text(README)
    bad = package_zip(definition(gov.greeter), properties(iconBrandColor="#F9F9F9"), icon=png(10, 20))
    gov.connector("ada", home, bad, "cli-greeter")
    connection = gov.connection("ada", home, "cli-greeter", API_KEY)
    submit = ("certify", "submit", "cli-greeter", "-c", connection, "--readme", str(readme), "-e", home)

    refused = tether("ada", *submit)
    assert refused.exit_code == 2, refused.output
    assert "icon.png: packaging/icon-not-square" in refused.output
    assert "apiProperties.json#/properties/iconBrandColor: packaging/brand-color-white" in refused.output
    assert "2 certification rule(s) fail" in refused.output

    fixed = package_zip(definition(gov.greeter), icon=png(20, 20))
    assert (
        gov["ada"]
        .put(f"/environments/{home}/connectors/cli-greeter", files={"package": ("p.zip", fixed)})
        .is_success
    )
    submitted = tether("ada", *submit, "--json")
    assert submitted.exit_code == 0, submitted.output
    request = json.loads(submitted.output)["id"]

    assert tether("ada", "certify", "queue").exit_code == 2  # makers are not certifiers
    queue = tether("cora", "certify", "queue", "--json")
    assert request in [item["id"] for item in json.loads(queue.output)]
    approved = tether("cora", "certify", "review", request, "--approve", "-m", "Clear and complete.")
    assert approved.exit_code == 0 and "in the catalog as cli-greeter" in approved.output
    status = tether("ada", "certify", "status", "cli-greeter", "-e", home)
    assert "revision 2: approved" in status.output and "cora (approve): Clear and complete." in status.output

    assert "cli-greeter" in tether("bob", "catalog", "list").output
    assert "Greet: GET /greet" in tether("bob", "catalog", "show", "cli-greeter").output
    installed = tether("bob", "catalog", "install", "cli-greeter", "-e", elsewhere)
    assert installed.exit_code == 0 and f"in {elsewhere}" in installed.output

    denied = tether("bob", "env", "dlp", "classify", "catalog:cli-greeter", "business", "-e", elsewhere)
    assert denied.exit_code == 2 and "admin role" in denied.output
    classified = tether(
        "admin", "env", "dlp", "classify", "catalog:cli-greeter", "business", "-e", elsewhere, "--json"
    )
    groups = {c["key"]: c["group"] for c in json.loads(classified.output)["connectors"]}
    assert groups == {"catalog:cli-greeter": "business", "builtin:http": "non-business"}
    hosts = tether("admin", "env", "dlp", "set", "--deny-host", "*.blocked.test", "-e", elsewhere)
    assert hosts.exit_code == 0 and "Http denied hosts: *.blocked.test" in hosts.output

    notify = {"type": "Http", "inputs": {"method": "GET", "uri": "https://ok.example.test"}}
    http = {"triggers": {"manual": {"type": "Request", "kind": "Http"}}, "actions": {"Notify": notify}}
    assert (
        gov["bob"]
        .post(f"/environments/{elsewhere}/flows", json={"name": "notify", "definition": http})
        .is_success
    )
    suspended = tether("admin", "env", "dlp", "classify", "builtin:http", "blocked", "-e", elsewhere)
    assert "Suspended flow notify" in suspended.output
    shown = tether("bob", "flow", "show", "notify", "-e", elsewhere)
    assert "disabled" in shown.output and "uses blocked connector(s) HTTP (builtin:http)" in shown.output
