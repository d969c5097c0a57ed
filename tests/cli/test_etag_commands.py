"""Read-modify-write commands send If-Match and say clearly when someone else saved in between."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.cli.conftest import PASSWORD, Cli

FLOW = {
    "definition": {
        "triggers": {"manual": {"type": "Request", "kind": "Http"}},
        "actions": {"Echo": {"type": "Compose", "inputs": "@triggerBody()"}},
    }
}


def _admin(url: str) -> httpx.Client:
    token = httpx.post(f"{url}/api/v1/tokens", json={"name": "other"}, auth=("admin", PASSWORD)).json()[
        "token"
    ]
    return httpx.Client(base_url=f"{url}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=30)


def test_flow_update_refuses_to_overwrite_a_change_made_since_it_was_loaded(
    logged_in: Cli, tmp_path: Path
) -> None:
    file = tmp_path / "flow.json"
    file.write_text(json.dumps(FLOW))
    assert logged_in("flow", "create", str(file), "--name", "shared-edit").exit_code == 0
    with _admin(logged_in.url) as other:
        loaded = other.get("/environments/default/flows/shared-edit").headers["ETag"]  # "I" load it...
        changed = other.patch("/environments/default/flows/shared-edit", json={"display_name": "Theirs"})
        assert changed.status_code == 200  # ...someone else saves...
    result = logged_in("flow", "update", "shared-edit", "--display-name", "Mine", "--if-match", loaded)
    assert result.exit_code != 0  # ...and my save is refused, not silently applied
    message = " ".join(result.output.split())
    assert "changed by admin" in message and "since you loaded it" in message, result.output
    assert "Traceback" not in result.output
    with _admin(logged_in.url) as other:
        assert other.get("/environments/default/flows/shared-edit").json()["display_name"] == "Theirs"
    # Without --if-match the command loads the current ETag itself and saves.
    saved = logged_in("flow", "update", "shared-edit", "--display-name", "Mine")
    assert saved.exit_code == 0, saved.output


def test_settings_set_with_a_stale_etag_names_who_changed_them(logged_in: Cli) -> None:
    with _admin(logged_in.url) as other:
        loaded = other.get("/environments/default/settings").headers["ETag"]
        assert (
            other.put("/environments/default/settings", json={"audit_retention_days": 90}).status_code == 200
        )
    result = logged_in("env", "settings", "set", "audit_retention_days=30", "--if-match", loaded)
    assert result.exit_code != 0
    assert "changed by admin" in " ".join(result.output.split()), result.output
