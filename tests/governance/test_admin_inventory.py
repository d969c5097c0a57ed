"""The admin inventory and the built-in connectors: who may see what, filters, paging, read-only."""

from __future__ import annotations

import time

import pytest

from tests.governance._audit_kit import ENV, MAKER_PASSWORD, Cli, World, _token


@pytest.fixture(scope="module")
def carol(world: World) -> str:
    """An environment admin of ``gov`` who is no platform admin."""
    with world.http() as admin:
        body = {"username": "carol", "password": MAKER_PASSWORD, "email": "carol@example.test"}
        admin.post("/users", json=body).raise_for_status()
        admin.put(
            f"/environments/{ENV}/members", json={"username": "carol", "role": "admin"}
        ).raise_for_status()
    world.tokens["carol"] = _token(world.url, "carol", MAKER_PASSWORD)
    return "carol"


def test_a_maker_gets_403_from_the_inventory(world: World) -> None:
    with world.http("alice") as alice:
        mine = alice.get(f"/environments/{ENV}/admin/connectors")
        every = alice.get("/admin/connectors")
    assert mine.status_code == 403
    assert "admin role" in mine.json()["detail"]
    assert every.status_code == 403
    assert "platform administrators" in every.json()["detail"]


def test_an_environment_admin_sees_their_environment_only(world: World, carol: str) -> None:
    with world.http(carol) as http:
        page = http.get(f"/environments/{ENV}/admin/connectors").json()
        assert http.get("/admin/connectors").status_code == 403
        assert http.get("/environments/default/admin/connectors").status_code == 404
    assert page["total"] == 5
    assert {c["name"] for c in page["items"]} == {"keyed", "oauth-global", "oauth-own", "basic-api", "multi"}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param({"authType": "basic"}, {"basic-api"}, id="auth-basic"),
        pytest.param({"authType": "APIKEY"}, {"keyed", "multi"}, id="auth-apikey-any-case"),
        pytest.param({"redirectMode": "global"}, {"oauth-global", "multi"}, id="redirect-global"),
        pytest.param(
            {"redirectMode": "GlobalPerConnector"}, {"oauth-own", "multi"}, id="redirect-per-connector"
        ),
        pytest.param(
            {"creator": "alice@example.test"}, {"keyed", "oauth-global", "oauth-own"}, id="creator-email"
        ),
        pytest.param({"creator": "bob"}, {"basic-api", "multi"}, id="creator-name"),
    ],
)
def test_filters(world: World, params: dict[str, str], expected: set[str]) -> None:
    with world.http() as admin:
        page = admin.get(f"/environments/{ENV}/admin/connectors", params=params).json()
    assert {c["name"] for c in page["items"]} == expected


def test_rows_carry_creator_auth_and_each_oauth_parameter(world: World) -> None:
    with world.http() as admin:
        page = admin.get("/admin/connectors", params={"creator": "bob"}).json()
    multi = next(c for c in page["items"] if c["name"] == "multi")
    assert multi["creator_name"] == "Bob Builder"
    assert multi["creator_email"] == "bob@example.test"
    assert multi["auth_types"] == ["apiKey", "oauth2"]
    assert multi["oauth_parameters"] == [
        {
            "parameter_set": "own",
            "parameter": "token",
            "identity_provider": "aad",
            "redirect_mode": "GlobalPerConnector",
        },
        {
            "parameter_set": "shared",
            "parameter": "token",
            "identity_provider": "oauth2",
            "redirect_mode": "Global",
        },
    ]
    assert multi["certification"] == "none"
    assert multi["environment"] == ENV


def test_paging_and_bad_filters(world: World) -> None:
    with world.http() as admin:
        first = admin.get(f"/environments/{ENV}/admin/connectors", params={"limit": 2}).json()
        rest = admin.get(
            f"/environments/{ENV}/admin/connectors", params={"cursor": first["next_cursor"]}
        ).json()
        bad = admin.get(f"/environments/{ENV}/admin/connectors", params={"authType": "kerberos"})
    assert first["total"] == rest["total"] == 5
    assert len(first["items"]) == 2 and len(rest["items"]) == 3
    assert {c["id"] for c in first["items"]}.isdisjoint({c["id"] for c in rest["items"]})
    assert bad.status_code == 400
    assert "oauth2" in bad.json()["detail"]  # the error names the choices


def test_the_cli_table_and_a_makers_clear_error(cli: Cli, world: World) -> None:
    builtins = cli("connector", "list", "--builtin", "--env", ENV)
    assert builtins.exit_code == 0, builtins.output
    assert "tether-admins" in builtins.output and "mail-smtp" in builtins.output
    assert "tether-admins" not in cli("connector", "list", "--env", ENV).output
    shown = cli("admin", "connectors", "--env", ENV, "--auth-type", "oauth2", "--limit", "2")
    assert shown.exit_code == 0, shown.output
    assert "Global" in shown.output and "next page with --cursor" in shown.output
    login = cli("login", "--server", world.url, "--username", "alice", "--password", MAKER_PASSWORD)
    assert login.exit_code == 0, login.output
    refused = cli("admin", "connectors", "--env", ENV)
    assert refused.exit_code != 0
    assert "admin role" in refused.output
    assert "Traceback" not in refused.output


def _connection(world: World, user: str, connector: str, parameters: dict | None = None) -> str:
    with world.http(user) as http:
        answer = http.post(
            f"/environments/{ENV}/connections", json={"connector": connector, "parameters": parameters or {}}
        )
        assert answer.status_code == 201, answer.text
        return str(answer.json()["id"])


def test_the_admin_connector_answers_as_the_caller(world: World) -> None:
    operation = "invoke/Get-AdminConnectors"
    mine = _connection(world, "alice", "tether-admins")
    with world.http("alice") as alice:
        refused = alice.post(f"/environments/{ENV}/connections/{mine}/{operation}", json={})
    assert refused.status_code == 403
    assert "admin role" in refused.json()["detail"]
    admins = _connection(world, "admin", "tether-admins")
    with world.http() as admin:
        answer = admin.post(
            f"/environments/{ENV}/connections/{admins}/{operation}", json={"creator": "alice"}
        )
    assert answer.status_code == 200, answer.text
    assert sorted(c["name"] for c in answer.json()["body"]["value"]) == ["keyed", "oauth-global", "oauth-own"]


def test_built_in_connectors_are_visible_and_read_only(world: World) -> None:
    with world.http("alice") as alice:
        listed = alice.get(f"/environments/{ENV}/connectors", params={"builtin": "true"}).json()["items"]
        plain = alice.get(f"/environments/{ENV}/connectors").json()["items"]
        deleted = alice.delete(f"/environments/{ENV}/connectors/mail-smtp")
        taken = alice.post(
            f"/environments/{ENV}/connectors",
            files={"apiDefinition": ("apiDefinition.swagger.json", b'{"swagger": "2.0"}')},
            data={"name": "mail-smtp"},
        )
    with world.http() as admin:
        admin_deleted_too = admin.delete(f"/environments/{ENV}/connectors/tether-admins")
    builtins = {c["name"]: c for c in listed if c["builtin"]}
    assert set(builtins) == {"tether-admins", "mail-smtp"}
    assert builtins["tether-admins"]["display_name"] == "Tether for Admins"
    assert not any(c["builtin"] for c in plain)
    assert deleted.status_code == 403 and "ships with Tether" in deleted.json()["detail"]
    assert admin_deleted_too.status_code == 403
    assert taken.status_code in (400, 409)


def test_the_mail_connector_obeys_the_network_policy_and_hides_its_password(world: World) -> None:
    """In ``default`` nobody allowed loopback: the SMTP server on 127.0.0.1 is refused like HTTP."""
    parameters = {
        "host": "127.0.0.1", "port": world.smtp_port, "tlsMode": "none", "from": "t@example.test",
        "username": "u", "password": "smtp-secret-value",
    }  # fmt: skip
    with world.http() as admin:
        created = admin.post(
            "/environments/default/connections", json={"connector": "mail-smtp", "parameters": parameters}
        )
        assert created.status_code == 201, created.text
        connection = created.json()["id"]
        before = world.mailbox.count()
        answer = admin.post(
            f"/environments/default/connections/{connection}/invoke/SendEmail",
            json={"emailMessage": {"To": "x@example.test", "Subject": "s", "Body": "<p>b</p>"}},
        )
    assert answer.status_code in (400, 403, 502), answer.text
    assert "network policy" in answer.text and "loopback" in answer.text
    assert "smtp-secret-value" not in answer.text + created.text
    assert world.mailbox.count() == before


def test_send_an_email_with_cc_and_an_attachment(world: World) -> None:
    parameters = {"host": "127.0.0.1", "port": world.smtp_port, "tlsMode": "none", "from": "t@example.test"}
    connection = _connection(world, "bob", "mail-smtp", parameters)
    start = world.mailbox.count()
    message = {
        "To": "a@example.test; b@example.test", "Cc": "c@example.test", "Subject": "Report",
        "Body": "<b>hi</b>", "Attachments": [{"Name": "r.csv", "ContentBytes": "YSxiCjEsMgo="}],
    }  # fmt: skip
    with world.http("bob") as bob:
        answer = bob.post(
            f"/environments/{ENV}/connections/{connection}/invoke/SendEmail", json={"emailMessage": message}
        )
        bad = bob.post(
            f"/environments/{ENV}/connections/{connection}/invoke/SendEmail",
            json={"emailMessage": {**message, "To": "not-an-address"}},
        )
    assert answer.status_code == 200, answer.text
    assert answer.json()["body"]["recipients"] == ["a@example.test", "b@example.test", "c@example.test"]
    [(recipients, sent)] = world.mailbox.since(start, 1)
    assert recipients == ["a@example.test", "b@example.test", "c@example.test"]
    assert sent["Cc"] == "c@example.test"
    [attachment] = list(sent.iter_attachments())
    assert attachment.get_filename() == "r.csv" and attachment.get_content() == "a,b\n1,2\n"
    assert bad.status_code == 400 and "not-an-address" in bad.json()["detail"]


def test_a_makers_audit_flow_fails_at_the_admin_action_saying_why(world: World) -> None:
    """In a flow the admin connector acts as the flow's connection owner: a maker's run is refused."""
    mail = {"host": "127.0.0.1", "port": world.smtp_port, "tlsMode": "none", "from": "t@example.test"}
    connections = {
        "admins": _connection(world, "bob", "tether-admins"),
        "mail": _connection(world, "bob", "mail-smtp", mail),
    }
    with world.http("bob") as bob:
        template = bob.get("/flow-templates/redirect-uri-audit").json()
        created = bob.post(
            f"/environments/{ENV}/flows",
            json={"name": "bobs-audit", "definition": template["definition"], "connections": connections},
        )
        assert created.status_code == 201, created.text
        run = bob.post(
            f"/environments/{ENV}/flows/bobs-audit/runs", json={"body": {"email": "bob@example.test"}}
        )
        assert run.status_code == 202, run.text
        deadline = time.monotonic() + 60
        detail = bob.get(f"/environments/{ENV}/flows/bobs-audit/runs/{run.json()['id']}").json()
        while (
            detail["run"]["status"] not in ("Succeeded", "Failed", "Cancelled")
            and time.monotonic() < deadline
        ):
            time.sleep(0.1)
            detail = bob.get(f"/environments/{ENV}/flows/bobs-audit/runs/{run.json()['id']}").json()
    assert detail["run"]["status"] == "Failed"
    [action] = [a for a in detail["actions"] if a["name"] == "Get_Custom_Connectors_as_Admin"]
    assert action["status"] == "Failed"
    assert "admin role" in action["error"]["message"]
    assert not [a for a in detail["actions"] if a["name"] == "Send_an_email" and a["status"] == "Succeeded"]
