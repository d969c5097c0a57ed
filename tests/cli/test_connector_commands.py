from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

from tests._paths import EXAMPLE_CONNECTOR
from tests.cli.conftest import PASSWORD, Cli
from tether.definition import DEFINITION_FILE, PROPERTIES_FILE, load_package


def test_login_stores_a_private_token_and_never_prints_it(cli: Cli, tmp_path: Path) -> None:
    result = cli("login", "--server", cli.url, "-u", "admin", "--password", PASSWORD)
    assert result.exit_code == 0, result.output
    credentials = tmp_path / "cli-home" / "credentials.json"
    token = json.loads(credentials.read_text())["token"]
    assert stat.S_IMODE(os.stat(credentials).st_mode) == 0o600
    assert token not in result.output and PASSWORD not in result.output
    whoami = cli("whoami", "--json")
    assert json.loads(whoami.output)["user"]["username"] == "admin"
    assert token not in whoami.output


def test_wrong_password_is_one_clear_line(cli: Cli) -> None:
    result = cli("login", "--server", cli.url, "-u", "admin", "--password", "nope-nope")
    assert result.exit_code == 2
    assert "error: Wrong username or password." in result.output
    assert "Traceback" not in result.output


def test_not_logged_in_says_how_to_log_in(cli: Cli) -> None:
    result = cli("connector", "list")
    assert result.exit_code == 2
    assert "not logged in; run 'tether login --server URL' first" in result.output


def test_paconn_workflow_create_update_revisions_download_rollback_delete(
    logged_in: Cli, tmp_path: Path
) -> None:
    cli = logged_in
    work = tmp_path / "work"
    shutil.copytree(EXAMPLE_CONNECTOR, work)
    settings = work / "settings.json"
    settings.write_text(json.dumps({"apiDefinition": DEFINITION_FILE, "apiProperties": PROPERTIES_FILE}))

    created = cli("connector", "create", "--settings", str(settings), "--json")
    assert created.exit_code == 0, created.output
    connector = json.loads(created.output)
    # paconn writes the new id (and environment) back into settings.json.
    written = json.loads(settings.read_text())
    assert (written["connectorId"], written["environment"]) == (connector["id"], "default")

    definition = json.loads((work / DEFINITION_FILE).read_text())
    definition["info"]["description"] += " Now with more sentiment."
    (work / DEFINITION_FILE).write_text(json.dumps(definition, indent=2))
    updated = cli("connector", "update", "-s", str(settings), "--note", "longer description", "--json")
    assert updated.exit_code == 0, updated.output
    assert json.loads(updated.output)["current_revision"] == 2

    listed = json.loads(cli("connector", "list", "--json").output)
    assert connector["id"] in [c["id"] for c in listed]
    revisions = json.loads(cli("connector", "revisions", "-c", connector["id"], "--json").output)
    assert [(r["number"], r["note"]) for r in revisions] == [(1, None), (2, "longer description")]

    dest = tmp_path / "downloads"
    downloaded = cli("connector", "download", "-c", connector["id"], "--dest", str(dest), "--revision", "1")
    assert downloaded.exit_code == 0, downloaded.output
    folder = dest / connector["id"]
    assert load_package(folder).semantically_equal(load_package(EXAMPLE_CONNECTOR))
    paconn_settings = json.loads((folder / "settings.json").read_text())
    assert paconn_settings == {
        "connectorId": connector["id"],
        "environment": "default",
        "apiDefinition": DEFINITION_FILE,
        "apiProperties": PROPERTIES_FILE,
    }

    rolled = cli("connector", "rollback", "-c", connector["id"], "--revision", "1", "--json")
    assert json.loads(rolled.output)["current_revision"] == 3
    cli("connector", "download", "-c", connector["id"], "--dest", str(tmp_path / "again"))
    assert (tmp_path / "again" / connector["id"] / DEFINITION_FILE).read_bytes() == (
        EXAMPLE_CONNECTOR / DEFINITION_FILE
    ).read_bytes()

    deleted = cli("connector", "delete", "-c", connector["id"], "--yes")
    assert deleted.exit_code == 0
    missing = cli("connector", "revisions", "-c", connector["id"])
    assert missing.exit_code == 2
    assert "not found" in missing.output


def test_create_with_paconn_file_flags(logged_in: Cli) -> None:
    result = logged_in(
        "connector",
        "create",
        "-d",
        str(EXAMPLE_CONNECTOR / DEFINITION_FILE),
        "-p",
        str(EXAMPLE_CONNECTOR / PROPERTIES_FILE),
        "--name",
        "flags",
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["name"] == "flags"


def test_remote_validate_uses_the_server(logged_in: Cli) -> None:
    clean = logged_in("connector", "validate", str(EXAMPLE_CONNECTOR), "--json")
    assert clean.exit_code == 0, clean.output
    strict = logged_in(
        "connector", "validate", str(EXAMPLE_CONNECTOR), "--profile", "certification", "--json"
    )
    assert strict.exit_code == 1
    assert any(f["rule"] == "certification/https-only" for f in json.loads(strict.output)["findings"])


def test_bad_local_file_is_reported_with_its_position(logged_in: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "api.json"
    bad.write_text('{\n  "swagger": "2.0"\n  "info": {}\n}')
    result = logged_in("connector", "create", "-d", str(bad))
    assert result.exit_code == 2
    assert f"{bad}:3:3: invalid JSON: Expecting ',' delimiter" in result.output
    assert "Traceback" not in result.output


def test_update_with_only_a_definition_keeps_the_properties(logged_in: Cli, tmp_path: Path) -> None:
    created = logged_in("connector", "create", str(EXAMPLE_CONNECTOR), "--name", "keep-props", "--json")
    cid = json.loads(created.output)["id"]
    updated = logged_in("connector", "update", "-c", cid, "-d", str(EXAMPLE_CONNECTOR / DEFINITION_FILE))
    assert updated.exit_code == 0, updated.output
    revisions = json.loads(logged_in("connector", "revisions", "-c", cid, "--json").output)
    assert sorted(revisions[-1]["files"]) == [DEFINITION_FILE, PROPERTIES_FILE]


def test_token_create_list_revoke(logged_in: Cli) -> None:
    created = logged_in("token", "create", "ci-bot", "--expires-in-days", "7")
    assert created.exit_code == 0, created.output
    token = created.stdout.strip().splitlines()[0]
    assert token.startswith("tth_")
    listed = json.loads(logged_in("token", "list", "--json").output)
    mine = next(t for t in listed if t["name"] == "ci-bot")
    assert f"{mine['id']}  {mine['prefix']}…  ci-bot  expires " in logged_in("token", "list").output
    assert token not in json.dumps(listed)
    assert logged_in("token", "revoke", mine["id"]).exit_code == 0
    assert logged_in("whoami", "--token", token).exit_code == 2
