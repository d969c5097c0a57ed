"""``tether user|group|env member|env settings|connector share|admin audit`` against a real server."""

from __future__ import annotations

import json

from tests.services._connections_kit import api_key_package


def _write(tmp_path, pkg):
    target = tmp_path / "pkg"
    target.mkdir()
    for name, content in pkg.files.items():
        (target / name).write_bytes(content)
    return target


def test_users_groups_members_sharing_settings_and_audit(logged_in, tmp_path) -> None:
    cli = logged_in
    suffix = tmp_path.name[-6:].lower().replace("_", "-")
    user, group, connector = f"u-{suffix}", f"g-{suffix}", f"c-{suffix}"
    assert cli("user", "create", user, "--password", "a-long-password").exit_code == 0
    listed = cli("user", "list", "--json")
    assert user in [u["username"] for u in json.loads(listed.output)]
    assert cli("group", "create", group).exit_code == 0
    assert cli("group", "add", group, user).exit_code == 0
    groups = json.loads(cli("group", "list", "--json").output)
    assert {"name": group, "members": [user]}.items() <= next(g for g in groups if g["name"] == group).items()
    added = cli("env", "member", "add", f"group:{group}", "--role", "maker")
    assert added.exit_code == 0, added.output
    mapped = json.loads(cli("group", "list", "--env", "default", "--json").output)
    assert [(g["name"], g["role"]) for g in mapped if g["name"] == group] == [(group, "maker")]
    created = cli("connector", "create", str(_write(tmp_path, api_key_package())), "--name", connector)
    assert created.exit_code == 0, created.output
    shared = cli("connector", "share", connector, f"group:{group}", "--permission", "use", "--json")
    assert shared.exit_code == 0, shared.output
    assert [(g["grantee"], g["permission"]) for g in json.loads(shared.output)["grants"]] == [(group, "use")]
    shown = cli("connector", "access", connector)
    assert f"group:{group}: use" in shown.output and "owner: admin" in shown.output
    assert cli("connector", "unshare", connector, f"group:{group}").exit_code == 0
    # A wrong permission is one clear line, not a traceback.
    wrong = cli("connector", "share", connector, "everyone", "--permission", "run")
    assert wrong.exit_code != 0 and "Traceback" not in wrong.output and "edit or use" in wrong.output
    settings = cli("env", "settings", "set", "audit_retention_days=90", "network_allow=127.0.0.1", "--json")
    assert settings.exit_code == 0, settings.output
    assert json.loads(settings.output)["audit_retention_days"] == 90
    bad = cli("env", "settings", "set", "nope=1")
    assert bad.exit_code != 0 and "network_allow" in bad.output
    audit = json.loads(cli("admin", "audit", "--env", "default", "--action", "connector.", "--json").output)
    assert [e["action"] for e in audit][:3] == ["connector.unshare", "connector.share", "connector.create"]
    assert cli("env", "member", "remove", f"group:{group}").exit_code == 0
    assert cli("group", "remove", group, user).exit_code == 0
