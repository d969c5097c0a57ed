"""``tether env var set|list|delete`` against a real server (issue 13)."""

from __future__ import annotations

import json

from tests.cli.conftest import Cli


def test_env_var_lifecycle(logged_in: Cli) -> None:
    plain = logged_in("env", "var", "set", "Orders.ApiUrl", "https://orders.example")
    assert plain.exit_code == 0, plain.output
    assert "Set Orders.ApiUrl in environment default" in plain.output
    # A secure value is typed without echo (never on the command line, never in shell history).
    secure = logged_in("env", "var", "set", "Orders.Key", "--secure", input="s3cr3t\n")
    assert secure.exit_code == 0, secure.output
    assert "(secure)" in secure.output and "s3cr3t" not in secure.output.replace("Value of Orders.Key:", "")

    listed = logged_in("env", "var", "list", "--json")
    assert listed.exit_code == 0, listed.output
    assert [(v["name"], v["value"]) for v in json.loads(listed.output)] == [
        ("Orders.ApiUrl", "https://orders.example"),
        ("Orders.Key", None),
    ]
    table = logged_in("env", "var", "list").output
    assert "https://orders.example" in table and "(secure)" in table and "s3cr3t" not in table

    deleted = logged_in("env", "var", "delete", "Orders.Key")
    assert deleted.exit_code == 0, deleted.output
    gone = logged_in("env", "var", "delete", "Orders.Key")
    assert gone.exit_code != 0 and "not found" in gone.output and "Traceback" not in gone.output


def test_env_var_set_without_value_needs_secure(logged_in: Cli) -> None:
    result = logged_in("env", "var", "set", "Name")
    assert result.exit_code == 2 and "give a VALUE" in result.output
    bad = logged_in("env", "var", "set", "bad name", "x")
    assert bad.exit_code != 0 and "not a valid variable name" in bad.output
