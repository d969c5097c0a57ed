"""Events, webhook subscriptions and alert mails through a real server, receiver and SMTP server.

Signatures are checked with the ``standardwebhooks`` package, the spec's own library: an
independent verifier, not our signing code read back.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from standardwebhooks import Webhook as Verifier
from standardwebhooks.webhooks import WebhookVerificationError
from typer.testing import CliRunner

from tests.api import _events_kit
from tests.api._events_kit import FAILING_FLOW, PASSWORD, World, wait_for
from tests.governance._audit_kit import html_of, package_files
from tether.cli import app as cli_app
from tether.flows.engine import VirtualClock
from tether.hosting import EventDispatcher, FlowConnectorCaller
from tether.secrets import KeyRing
from tether.services import ConnectorRunner
from tether.store import utcnow

world = _events_kit.world  # the module's server, receiver and SMTP server (a fixture)


def _connector(world: World, user: str, env: str, name: str) -> str:
    with world.http(user) as http:
        answer = http.post(
            f"/environments/{env}/connectors", files=package_files(name.title(), {}), data={"name": name}
        )
        assert answer.status_code == 201, answer.text
        return str(answer.json()["id"])


def _webhook(world: World, env: str, path: str, *, types: list[str] | None = None, url: str = "") -> dict:
    with world.http() as admin:
        answer = admin.post(
            f"/environments/{env}/webhooks",
            json={"url": url or world.receiver.url + path, "event_types": types or [], "description": path},
        )
        assert answer.status_code == 201, answer.text
        return dict(answer.json())


def _deliveries(world: World, env: str, hook: str) -> list[dict]:
    with world.http() as admin:
        answer = admin.get(f"/environments/{env}/webhooks/{hook}/deliveries")
        assert answer.status_code == 200, answer.text
        return list(answer.json()["items"])


def test_delivery_verifies_with_standard_webhooks_and_a_tampered_body_does_not(world: World) -> None:
    env = world.environment()
    hook = _webhook(world, env, "/signed", types=["connector."])
    assert hook["secret"].startswith("whsec_")
    with world.http() as admin:  # the secret is shown once: never again
        assert "secret" not in admin.get(f"/environments/{env}/webhooks/{hook['id']}").json()
    connector_id = _connector(world, "alice", env, "signed-api")

    got = world.receiver.wait("/signed", 1)[0]
    payload = Verifier(hook["secret"]).verify(got.body, got.headers)
    assert payload["type"] == "connector.created"
    assert payload["data"]["subject"] == {"kind": "connector", "id": connector_id, "name": "signed-api"}
    assert payload["data"]["actor"] == "alice" and payload["data"]["environment"] == env
    assert got.headers["webhook-id"].startswith("msg_")
    tampered = got.body.replace(b"signed-api", b"signed-apx")
    with pytest.raises(WebhookVerificationError):
        Verifier(hook["secret"]).verify(tampered, got.headers)
    with pytest.raises(WebhookVerificationError):  # another subscription's secret does not verify it
        Verifier(_webhook(world, env, "/other")["secret"]).verify(got.body, got.headers)


def test_a_failing_receiver_gets_the_event_on_the_third_attempt_and_replay_resends_it(world: World) -> None:
    env = world.environment()
    world.receiver.plans["/flaky"] = [500, 500]
    hook = _webhook(world, env, "/flaky", types=["connector.created"])
    _connector(world, "alice", env, "flaky-api")

    attempts = world.receiver.wait("/flaky", 3)
    assert len({a.headers["webhook-id"] for a in attempts}) == 1  # one message, three attempts
    done = wait_for(
        lambda: [d for d in _deliveries(world, env, hook["id"]) if d["status"] == "succeeded"], what="success"
    )[0]
    assert done["attempts"] == 3 and done["response_code"] == 200
    assert [a["status"] for a in done["attempts_log"]] == [500, 500, 200]
    assert done["attempts_log"][0]["error"] == "the receiver answered HTTP 500"

    with world.http() as admin:
        replay = admin.post(f"/environments/{env}/webhooks/{hook['id']}/deliveries/{done['id']}/replay")
        assert replay.status_code == 202, replay.text
        assert replay.json()["replay_of"] == done["id"]
    again = world.receiver.wait("/flaky", 4)[3]
    assert again.headers["webhook-id"] == attempts[0].headers["webhook-id"]
    assert json.loads(again.body) == json.loads(attempts[0].body)
    Verifier(hook["secret"]).verify(again.body, again.headers)

    with world.http() as admin:  # send test event, then rotate: the new secret signs the next one
        rotated = admin.post(f"/environments/{env}/webhooks/{hook['id']}/rotate-secret").json()["secret"]
        assert admin.post(f"/environments/{env}/webhooks/{hook['id']}/test").status_code == 202
    test_event = world.receiver.wait("/flaky", 5)[4]
    assert Verifier(rotated).verify(test_event.body, test_event.headers)["type"] == "webhook.test"


@pytest.mark.parametrize(
    "url", [pytest.param("http://169.254.169.254/latest/meta-data", id="metadata"),
            pytest.param("http://10.1.2.3/hook", id="private")],
)  # fmt: skip
def test_a_blocked_address_is_refused_at_delivery_with_a_clear_error(world: World, url: str) -> None:
    env = world.environment()
    hook = _webhook(world, env, "/blocked", url=url, types=["connector.created"])
    _connector(world, "alice", env, "blocked-api")
    failed = wait_for(
        lambda: [d for d in _deliveries(world, env, hook["id"]) if d["status"] == "failed"], what="refusal"
    )[0]
    assert failed["attempts"] == 1 and failed["response_code"] is None  # not retried: waiting changes nothing
    assert "blocked by the environment's network policy" in failed["last_error"]
    assert "network_allow" in failed["last_error"]


def test_webhook_input_and_permissions(world: World) -> None:
    env = world.environment()
    with world.http() as admin:
        bad = admin.post(f"/environments/{env}/webhooks", json={"url": "ftp://x/y"})
        assert bad.status_code == 400 and "http(s) URL" in bad.json()["detail"]
        bad = admin.post(
            f"/environments/{env}/webhooks", json={"url": "https://x.test", "event_types": ["nope"]}
        )
        assert bad.status_code == 400 and "not an event type" in bad.json()["detail"]
    with world.http("alice") as alice:  # makers do not manage subscriptions
        refused = alice.post(f"/environments/{env}/webhooks", json={"url": "https://x.test/h"})
        assert refused.status_code == 403


def test_events_are_authorized_per_resource_and_paged(world: World) -> None:
    env = world.environment()
    alice_connector = _connector(world, "alice", env, "alice-private")
    for n in range(3):
        _connector(world, "bob", env, f"bob-{n}")

    def subjects(user: str, **params: object) -> list[str]:
        with world.http(user) as http:
            answer = http.get(f"/environments/{env}/events", params={"type": "connector.", **params})
            assert answer.status_code == 200, answer.text
            return [e["subject"]["name"] for e in answer.json()["items"]]

    assert subjects("bob") == ["bob-2", "bob-1", "bob-0"]  # never alice's private connector
    assert subjects("alice") == ["alice-private"]
    assert subjects("admin") == ["bob-2", "bob-1", "bob-0", "alice-private"]
    with world.http("alice") as alice:
        shared = alice.put(
            f"/environments/{env}/connectors/{alice_connector}/access",
            json={"grantee": "user:bob", "permission": "use"},
        )
        assert shared.status_code == 200, shared.text
    assert subjects("bob")[:1] == ["alice-private"]  # shared now: its events show, the share first

    with world.http("admin") as admin:  # pages: follow next until it is null
        seen, link = [], f"/api/v1/environments/{env}/events?type=connector.created&limit=2"
        while link:
            page = admin.get(link.removeprefix("/api/v1")).json()
            assert len(page["items"]) <= 2
            seen += [e["subject"]["name"] for e in page["items"]]
            link = page["next"]
        assert seen == ["bob-2", "bob-1", "bob-0", "alice-private"]
        oldest = admin.get(f"/environments/{env}/events", params={"type": "connector.created"}).json()[
            "items"
        ][-1]
        after = admin.get(
            f"/environments/{env}/events", params={"after": oldest["id"], "type": "connector.created"}
        )
        assert [e["subject"]["name"] for e in after.json()["items"]] == ["bob-0", "bob-1", "bob-2"]
        bad = admin.get(f"/environments/{env}/events", params={"type": "nope"})
        assert bad.status_code == 400 and "not an event type" in bad.json()["detail"]


def _mail_connection(world: World, env: str) -> str:
    parameters = {
        "host": "127.0.0.1",
        "port": world.smtp_port,
        "tlsMode": "none",
        "from": "alerts@example.test",
    }
    with world.http() as admin:
        answer = admin.post(
            f"/environments/{env}/connections", json={"connector": "mail-smtp", "parameters": parameters}
        )
        assert answer.status_code == 201, answer.text
        connection = str(answer.json()["id"])
        settings = admin.put(f"/environments/{env}/alerts/settings", json={"connection": connection})
        assert settings.status_code == 200, settings.text
    return connection


def test_an_email_alert_reaches_the_smtp_server(world: World) -> None:
    env = world.environment()
    _mail_connection(world, env)
    with world.http("alice") as alice:
        rule = alice.post(
            f"/environments/{env}/alerts/rules", json={"kind": "email", "event_types": ["connector."]}
        )
        assert rule.status_code == 201, rule.text
    start = world.mailbox.count()
    _connector(world, "alice", env, "mailed-api")
    recipients, message = world.mailbox.since(start, 1)[0]
    assert recipients == ["alice@example.test"]
    assert env in message["Subject"]
    assert "connector.created" in html_of(message) and "mailed-api" in html_of(message)


def test_a_flow_failing_several_times_sends_one_digest_to_its_owner(world: World) -> None:
    env = world.environment()
    _mail_connection(world, env)
    with world.http("alice") as alice:
        created = alice.post(
            f"/environments/{env}/flows", json={"name": "breaks", "definition": FAILING_FLOW}
        )
        assert created.status_code == 201, created.text
        runs = [
            alice.post(f"/environments/{env}/flows/breaks/runs", json={"body": {}}).json()["id"]
            for _ in range(3)
        ]
        # A flow whose digest its owner muted fails too: it is not in the digest.
        muted = alice.post(f"/environments/{env}/flows", json={"name": "muted", "definition": FAILING_FLOW})
        assert muted.status_code == 201, muted.text
        rule = alice.post(f"/environments/{env}/alerts/rules", json={"kind": "no-digest", "flow": "muted"})
        assert rule.status_code == 201, rule.text
        quiet = alice.post(f"/environments/{env}/flows/muted/runs", json={"body": {}}).json()["id"]

    def failures() -> list[dict]:
        with world.http("alice") as alice:
            found = alice.get(f"/environments/{env}/events", params={"type": "run.failed"}).json()["items"]
        return found if len(found) == 4 else []

    events = wait_for(failures, what="four run.failed events")
    assert {e["data"]["run_id"] for e in events} == {*runs, quiet}
    assert events[0]["data"]["error_code"] == "Broken"

    # The server's own dispatcher waits out the hour; a dispatcher an hour and a minute later sends.
    start = world.mailbox.count()

    async def digest_later() -> tuple[int, int]:
        clock = VirtualClock(utcnow() + timedelta(minutes=61))
        async with ConnectorRunner() as connectors:
            caller = FlowConnectorCaller(
                world.db, runtime=connectors, keyring=KeyRing.from_settings(world.settings)
            )
            dispatcher = EventDispatcher(
                world.db, caller, keyring=caller.keyring, instance="test", clock=clock, public_url=world.url
            )
            first = await dispatcher.send_alerts()
            return first, await dispatcher.send_alerts()  # nothing new: nothing sent

    assert asyncio.run(digest_later()) == (1, 0)
    recipients, message = world.mailbox.since(start, 1)[0]
    assert recipients == ["alice@example.test"] and world.mailbox.count() == start + 1
    assert "3 failed runs of breaks" in message["Subject"]
    body = html_of(message)
    assert all(run in body for run in runs) and f"/e/{env}/flows/breaks/runs/" in body
    assert quiet not in body and "muted" not in message["Subject"]


def test_cli_webhook_and_events_commands(world: World, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TETHER_HOME", str(tmp_path / "cli-home"))
    for name in ("TETHER_URL", "TETHER_TOKEN", "TETHER_ENVIRONMENT", "TETHER_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()

    def cli(*args: str) -> str:
        result = runner.invoke(cli_app, [*args])
        assert result.exit_code == 0, result.output
        return result.output

    cli("login", "--server", world.url, "--username", "admin", "--password", PASSWORD)
    env = world.environment()
    created = json.loads(
        cli("webhook", "create", world.receiver.url + "/cli", "--type", "connector.", "-e", env, "--json")
    )
    assert created["secret"].startswith("whsec_")
    assert "Signing secret (shown once" in cli("webhook", "rotate-secret", created["id"], "-e", env)
    listed = json.loads(cli("webhook", "list", "-e", env, "--json"))
    assert [h["id"] for h in listed] == [created["id"]] and "secret" not in listed[0]
    assert "Queued test delivery" in cli("webhook", "test", created["id"], "-e", env)
    world.receiver.wait("/cli", 1)
    deliveries = wait_for(
        lambda: [d for d in json.loads(cli("webhook", "deliveries", created["id"], "-e", env, "--json"))
                 if d["status"] == "succeeded"],
        what="a delivered test event",
    )  # fmt: skip
    assert "a replay of" in cli("webhook", "replay", created["id"], deliveries[0]["id"], "-e", env)
    _connector(world, "alice", env, "cli-api")
    events = cli("events", "list", "-e", env, "--type", "connector.created")
    assert "connector.created" in events and "cli-api" in events
    listed_events = json.loads(cli("events", "list", "-e", env, "--type", "connector.created", "--json"))
    assert [e["subject"]["name"] for e in listed_events] == ["cli-api"]  # one JSON array
    refused = runner.invoke(cli_app, ["events", "list", "-e", env, "--type", "nope"])
    assert refused.exit_code != 0 and "not an event type" in refused.output
    changed = json.loads(
        cli("webhook", "update", created["id"], "--disable", "--description", "paused", "-e", env, "--json")
    )
    assert (changed["enabled"], changed["description"], changed["event_types"]) == (
        False,
        "paused",
        ["connector."],
    )
    changed = json.loads(
        cli("webhook", "update", created["id"], "--all-types", "--enable", "-e", env, "--json")
    )
    assert (changed["enabled"], changed["event_types"]) == (True, [])
    nothing = runner.invoke(cli_app, ["webhook", "update", created["id"], "-e", env])
    assert nothing.exit_code == 2 and "nothing to change" in nothing.output
    assert "Deleted webhook" in cli("webhook", "delete", created["id"], "-e", env)

    assert "alert mails are off" in cli("alerts", "settings", "-e", env)
    assert "Subscribed" in cli("alerts", "subscribe", "--type", "run.failed", "-e", env)
    assert "all your flows" in cli("alerts", "mute", "-e", env)
    rules = json.loads(cli("alerts", "rules", "-e", env, "--json"))
    assert sorted(r["kind"] for r in rules) == ["email", "no-digest"]
    for rule in rules:
        assert "Deleted alert rule" in cli("alerts", "delete", rule["id"], "-e", env)
    refused = runner.invoke(cli_app, ["alerts", "settings", "--connection", "nope", "-e", env])
    assert refused.exit_code != 0 and "not found" in refused.output


def test_events_list_follow_prints_new_events_as_they_happen(world: World, tmp_path: Path) -> None:
    """``tether events list --follow --json`` in its own process: a connector created after it started
    shows up as one JSON line, without the events it already printed being printed again."""
    home = tmp_path / "follow-home"
    env = world.environment()
    _connector(world, "alice", env, "before-follow")
    login = CliRunner().invoke(
        cli_app, ["login", "--server", world.url, "--username", "admin", "--password", PASSWORD],
        env={"TETHER_HOME": str(home)},
    )  # fmt: skip
    assert login.exit_code == 0, login.output
    lines: queue.Queue[str] = queue.Queue()
    follower = subprocess.Popen(
        [str(Path(sys.executable).with_name("tether")), "events", "list", "--follow", "--json", "-e", env,
         "--type", "connector.created"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "TETHER_HOME": str(home), "TETHER_URL": world.url},
    )  # fmt: skip
    reader = threading.Thread(target=lambda: [lines.put(line) for line in follower.stdout or ()], daemon=True)
    reader.start()
    try:
        first = json.loads(lines.get(timeout=120))
        assert first["subject"]["name"] == "before-follow"
        _connector(world, "alice", env, "after-follow")
        followed = json.loads(lines.get(timeout=120))
        assert (followed["type"], followed["subject"]["name"]) == ("connector.created", "after-follow")
        assert lines.empty()
    finally:
        follower.terminate()
        follower.wait(timeout=60)
        reader.join(timeout=60)
        if follower.stdout:
            follower.stdout.close()


ANSWER = {
    "triggers": {"manual": {"type": "Request", "kind": "Http"}},
    "actions": {
        "Double": {"type": "Compose", "inputs": "@mul(triggerBody()['n'], 2)"},
        "Reply": {
            "type": "Response",
            "runAfter": {"Double": []},
            "inputs": {"statusCode": 200, "body": "ok"},
        },
    },
}


def test_stateful_runs_record_success_and_stateless_ones_only_failure(world: World) -> None:
    env = world.environment()
    with world.http("alice") as alice:
        for name, kind in (("kept", "Stateful"), ("fast", "Stateless")):
            created = alice.post(
                f"/environments/{env}/flows", json={"name": name, "definition": ANSWER, "kind": kind}
            )
            assert created.status_code == 201, created.text
        urls = {
            name: alice.post(f"/environments/{env}/flows/{name}/callback-url").json()["value"]
            for name in ("kept", "fast")
        }
    with httpx.Client(timeout=60) as http:

        def fire(name: str, body: object) -> httpx.Response:
            return http.post(urls[name].replace(world.settings.public_url, world.url), json=body)

        assert fire("kept", {"n": 1}).status_code == 200
        assert fire("fast", {"n": 1}).status_code == 200
        assert fire("fast", {"n": "not a number"}).status_code == 202

    def events() -> list[tuple[str, str]]:
        with world.http("alice") as alice:
            items = alice.get(f"/environments/{env}/events", params={"type": "run."}).json()["items"]
        return sorted((e["type"], e["subject"]["name"]) for e in items)

    wanted = [("run.failed", "fast"), ("run.succeeded", "kept")]
    assert wait_for(lambda: events() == wanted, what="the runs' events")  # no run.succeeded of 'fast'


def test_a_failed_connection_test_is_an_event_of_its_owner(world: World) -> None:
    env = world.environment()
    connector = _connector(world, "alice", env, "unreachable-api")
    with world.http("alice") as alice:
        connection = alice.post(
            f"/environments/{env}/connections", json={"connector": connector, "parameters": {}}
        )
        assert connection.status_code == 201, connection.text
        cid = connection.json()["id"]
        tested = alice.post(f"/environments/{env}/connections/{cid}/test", json={"operation": "Me"})
        assert tested.status_code == 200 and tested.json()["ok"] is False
        events = alice.get(f"/environments/{env}/events", params={"type": "connection.test_failed"}).json()[
            "items"
        ]
    assert [e["subject"]["id"] for e in events] == [cid]
    assert events[0]["data"]["error"] == tested.json()["message"]
    with world.http("bob") as bob:  # not his connection
        assert bob.get(f"/environments/{env}/events", params={"type": "connection."}).json()["items"] == []
