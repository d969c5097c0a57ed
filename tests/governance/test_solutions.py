"""Solutions: the shipped audit solution imported into a second environment, atomic imports, export."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from tests.governance._audit_kit import CONNECTORS, ENV, Cli, World, html_of, package_files
from tether.cli.redirect_audit import table_rows


def _environment(world: World, name: str) -> dict[str, str]:
    """A new environment with the admin's Tether for Admins and Mail connections in it."""
    mail = {"host": "127.0.0.1", "port": world.smtp_port, "tlsMode": "none", "from": "tether@example.test"}
    with world.http() as admin:
        admin.post("/environments", json={"name": name}).raise_for_status()
        admin.put(f"/environments/{name}/settings", json={"network_allow": ["127.0.0.1"]}).raise_for_status()
        ids = {}
        for reference, connector, parameters in (
            ("admins", "tether-admins", {}),
            ("mail", "mail-smtp", mail),
        ):
            answer = admin.post(
                f"/environments/{name}/connections", json={"connector": connector, "parameters": parameters}
            )
            assert answer.status_code == 201, answer.text
            ids[reference] = answer.json()["id"]
    return ids


def _flows(world: World, env: str) -> list[str]:
    with world.http() as admin:
        return [f["name"] for f in admin.get(f"/environments/{env}/flows").json()["items"]]


def _connectors(world: World, env: str) -> list[str]:
    with world.http() as admin:
        return [c["name"] for c in admin.get(f"/environments/{env}/connectors").json()["items"]]


@pytest.fixture(scope="module")
def second(world: World) -> dict[str, str]:
    return _environment(world, "gov-two")


def test_an_import_with_a_missing_reference_changes_nothing(
    cli: Cli, world: World, second: dict[str, str]
) -> None:
    result = cli(
        "solution", "import", "--builtin", "redirect-uri-audit", "--env", "gov-two",
        "--connection", f"admins={second['admins']}",
    )  # fmt: skip
    assert result.exit_code != 0
    assert "connection reference 'mail'" in result.output and "nothing was changed" in result.output
    assert (
        f"mail={second['mail']}" not in result.output or second["mail"] in result.output
    )  # names candidates


def test_the_shipped_solution_runs_in_a_second_environment(
    cli: Cli, world: World, second: dict[str, str]
) -> None:
    assert _flows(world, "gov-two") == []
    result = cli(
        "solution", "import", "--builtin", "redirect-uri-audit", "--env", "gov-two",
        "--connection", f"admins={second['admins']}", "--connection", f"mail={second['mail']}",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert sorted(_flows(world, "gov-two")) == ["redirect-uri-audit", "redirect-uri-audit-per-creator"]
    start = world.mailbox.count()
    body = json.dumps({"email": "auditor@example.test", "environment": "*"})
    ran = cli("flow", "run", "redirect-uri-audit", "--env", "gov-two", "--body", body, "--wait")
    assert ran.exit_code == 0, ran.output
    [(recipients, message)] = world.mailbox.since(start, 1)
    assert recipients == ["auditor@example.test"]
    rows = sorted(row[:2] for row in table_rows(html_of(message))[1:])
    assert rows == [["Multi Auth", ENV], ["OAuth Global", ENV]]
    again = cli(
        "solution", "import", "--builtin", "redirect-uri-audit", "--env", "gov-two", "--json",
        "--connection", f"admins={second['admins']}", "--connection", f"mail={second['mail']}",
    )  # fmt: skip
    assert again.exit_code == 0, again.output
    assert {f["action"] for f in json.loads(again.output)["flows"]} == {"updated"}


def test_a_failure_halfway_rolls_the_whole_import_back(cli: Cli, world: World, tmp_path: Path) -> None:
    """A connector then an invalid flow: the connector written first is gone too."""
    _maker, _name, title, properties, security = CONNECTORS[0]
    files = {part: content for part, (_n, content, _t) in package_files(title, properties, security).items()}
    manifest = {
        "format": "tether.solution/1", "name": "broken",
        "connectors": [{"name": "keyed-copy", "display_name": "Keyed copy"}],
        "flows": [{"name": "broken-flow", "connection_references": {}}],
        "environment_variables": [],
    }  # fmt: skip
    path = tmp_path / "broken.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("solution.json", json.dumps(manifest))
        archive.writestr("connectors/keyed-copy/apiDefinition.swagger.json", files["apiDefinition"])
        archive.writestr("connectors/keyed-copy/apiProperties.json", files["apiProperties"])
        bad = {
            "triggers": {},
            "actions": {"a": {"type": "Compose", "inputs": 1, "runAfter": {"missing": []}}},
        }
        archive.writestr("flows/broken-flow.json", json.dumps(bad))
    result = cli("solution", "import", str(path), "--env", ENV)
    assert result.exit_code != 0
    assert "missing" in result.output
    assert "keyed-copy" not in _connectors(world, ENV)
    assert "broken-flow" not in _flows(world, ENV)


def test_export_then_import_carries_connectors_flows_and_variables(
    cli: Cli, world: World, second: dict[str, str], tmp_path: Path
) -> None:
    with world.http() as admin:
        admin.put(
            "/environments/gov-two/variables/Audit.Subject", json={"value": "weekly"}
        ).raise_for_status()
        created = admin.post(
            "/environments/gov-two/connectors",
            files=package_files("Exported API", {"connectionParameters": {}}),
            data={"name": "exported-api"},
        )
        assert created.status_code == 201, created.text
    path = tmp_path / "sol.zip"
    exported = cli(
        "solution", "export", "--env", "gov-two", "--connector", "exported-api",
        "--flow", "redirect-uri-audit", "--variable", "Audit.Subject", "--name", "audit",
        "--output", str(path),
    )  # fmt: skip
    assert exported.exit_code == 0, exported.output
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as archive:
        manifest = json.loads(archive.read("solution.json"))
    assert manifest["flows"][0]["connection_references"] == {
        "admins": {"connector": "tether-admins"},
        "mail": {"connector": "mail-smtp"},
    }
    assert manifest["environment_variables"] == [
        {"name": "Audit.Subject", "secure": False, "value": "weekly"}
    ]
    third = _environment(world, "gov-three")
    imported = cli(
        "solution", "import", str(path), "--env", "gov-three", "--json",
        "--variable", "Audit.Subject=monthly",
        "--connection", f"admins={third['admins']}", "--connection", f"mail={third['mail']}",
    )  # fmt: skip
    assert imported.exit_code == 0, imported.output
    report = json.loads(imported.output)
    assert report["connectors"] == [{"name": "exported-api", "action": "created"}]
    assert report["flows"][0]["connections"] == {"admins": third["admins"], "mail": third["mail"]}
    with world.http() as admin:
        variables = admin.get("/environments/gov-three/variables").json()["items"]
    assert [(v["name"], v["value"]) for v in variables] == [("Audit.Subject", "monthly")]
