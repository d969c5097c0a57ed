"""Two users over HTTP: sharing a connector (Can use, Can edit), a connection, and revoking both.

The API runs in process with its real caches: the invoke path's prepared calls are cached per
caller (services/_read_cache.py), so "revoking stops it at once" is checked right after a call
that was answered from that cache.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from tests.api.conftest import Api
from tests.services._invoke_kit import KEY, echo_app, echo_package, values_for
from tether.api import serve_in_thread

ENV = "/api/v1/environments/default"


@pytest.fixture(scope="module")
def echo_host() -> Iterator[str]:
    with serve_in_thread(echo_app()) as url:  # type: ignore[arg-type]
        yield url.removeprefix("http://")


def _user(api: Api, admin: dict[str, str], name: str, role: str | None = "maker") -> dict[str, str]:
    created = api.client.post(
        "/api/v1/users", json={"username": name, "password": f"{name}-password"}, headers=admin
    )
    assert created.status_code == 201, created.text
    if role is not None:
        member = api.client.put(f"{ENV}/members", json={"username": name, "role": role}, headers=admin)
        assert member.status_code == 200, member.text
    return api.as_user(api.token_for(name, f"{name}-password"))


def _connector(api: Api, headers: dict[str, str], echo_host: str) -> str:
    files = {"package": ("echo.zip", echo_package(echo_host, "header").to_zip(), "application/zip")}
    created = api.client.post(f"{ENV}/connectors", files=files, headers=headers)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def _connect(api: Api, headers: dict[str, str], connector: str) -> Any:
    body = {"connector": connector, "parameters": values_for("header")}
    return api.client.post(f"{ENV}/connections", json=body, headers=headers)


def _share(api: Api, headers: dict[str, str], path: str, grantee: str, permission: str) -> None:
    answer = api.client.put(
        f"{ENV}/{path}/access", json={"grantee": grantee, "permission": permission}, headers=headers
    )
    assert answer.status_code == 200, answer.text


def _wait_run(api: Api, headers: dict[str, str], flow: str, run_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        detail = api.client.get(f"{ENV}/flows/{flow}/runs/{run_id}", headers=headers).json()
        if detail["run"]["status"] in ("Succeeded", "Failed", "Cancelled"):
            return detail
        assert time.monotonic() < deadline, detail
        time.sleep(0.02)


def _allow_loopback(api: Api, admin: dict[str, str]) -> None:
    answer = api.client.put(f"{ENV}/settings", json={"network_allow": ["127.0.0.1"]}, headers=admin)
    assert answer.status_code == 200, answer.text


def test_can_use_then_can_edit_then_revoke_stops_both_at_once(
    api: Api, admin_headers: dict[str, str], echo_host: str
) -> None:
    _allow_loopback(api, admin_headers)
    ada = _user(api, admin_headers, "ada")
    bob = _user(api, admin_headers, "bob")
    connector = _connector(api, ada, echo_host)
    # Unshared: bob cannot see it, connect to it, or change it.
    assert api.client.get(f"{ENV}/connectors/{connector}", headers=bob).status_code == 404
    assert _connect(api, bob, connector).status_code == 404
    # Can use: bob connects and calls (twice: the second call is answered from the prepared-call cache).
    _share(api, ada, f"connectors/{connector}", "user:bob", "use")
    created = _connect(api, bob, connector)
    assert created.status_code == 201, created.text
    call = f"{ENV}/connections/{created.json()['id']}/invoke/GetLatest"
    for _ in range(2):
        answer = api.client.post(call, headers=bob)
        assert answer.status_code == 200 and answer.json()["body"]["saw_key"] is True
    upload = {"package": ("echo.zip", echo_package(echo_host, "header").to_zip(), "application/zip")}
    assert api.client.put(f"{ENV}/connectors/{connector}", files=upload, headers=bob).status_code == 403
    # Can edit: bob updates it.
    _share(api, ada, f"connectors/{connector}", "user:bob", "edit")
    assert api.client.put(f"{ENV}/connectors/{connector}", files=upload, headers=bob).status_code == 200
    assert api.client.post(call, headers=bob).status_code == 200
    # Revoked: the very next call, update and read are refused in this process (no 2 s window).
    revoked = api.client.delete(f"{ENV}/connectors/{connector}/access/user:bob", headers=ada)
    assert revoked.status_code == 200, revoked.text
    refused = api.client.post(call, headers=bob)
    assert refused.status_code == 403, refused.text
    assert refused.json()["type"].endswith("/no-longer-shared")
    assert (
        "no longer shared" in refused.json()["detail"]
        and "tether connector share" in refused.json()["detail"]
    )
    assert api.client.put(f"{ENV}/connectors/{connector}", files=upload, headers=bob).status_code == 404
    assert api.client.get(f"{ENV}/connectors/{connector}", headers=bob).status_code == 404


def test_shared_connection_is_callable_without_any_secret_in_any_answer(
    api: Api, admin_headers: dict[str, str], echo_host: str
) -> None:
    _allow_loopback(api, admin_headers)
    ada = _user(api, admin_headers, "ada")
    bob = _user(api, admin_headers, "bob", role="user")
    connector = _connector(api, ada, echo_host)
    connection = _connect(api, ada, connector).json()["id"]
    _share(api, ada, f"connections/{connection}", "user:bob", "use")
    answers = [
        api.client.get(f"{ENV}/connections", headers=bob),
        api.client.get(f"{ENV}/connections/{connection}", headers=bob),
        api.client.get(f"{ENV}/connections/{connection}/access", headers=bob),
        api.client.post(f"{ENV}/connections/{connection}/invoke/GetLatest", headers=bob),
        api.client.get(f"/apim/{connector}/{connection}/echo/latest", headers=bob),
        api.client.get(f"{ENV}/audit", headers=admin_headers),
    ]
    assert [a.status_code for a in answers] == [200] * len(answers), [a.text for a in answers]
    assert answers[3].json()["body"]["saw_key"] is True  # the call carried ada's key…
    for answer in answers:
        assert KEY not in answer.text  # …which no answer shows
    # Bob uses it but cannot change it, re-share it or take its values.
    patch = {"parameters": {"api_key": "bobs-own"}}
    assert api.client.patch(f"{ENV}/connections/{connection}", json=patch, headers=bob).status_code == 403
    share = {"grantee": "everyone", "permission": "use"}
    assert (
        api.client.put(f"{ENV}/connections/{connection}/access", json=share, headers=bob).status_code == 403
    )
    # Revoked: gone on the next call.
    assert api.client.delete(f"{ENV}/connections/{connection}/access/bob", headers=ada).status_code == 200
    assert api.client.post(f"{ENV}/connections/{connection}/invoke/GetLatest", headers=bob).status_code == 404
    with api.db.session() as session:  # not at rest in the grants or audit tables either
        for table in ("grants", "audit_events"):
            assert KEY not in repr(session.execute(text(f"SELECT * FROM {table}")).all())


def _echo_flow(name: str, connection: str) -> dict[str, Any]:
    action = {
        "type": "ApiConnection",
        "inputs": {
            "host": {"connection": {"name": "@parameters('$connections')['echo']['connectionId']"}},
            "method": "get",
            "path": "/echo/latest",
        },
    }
    definition = {"triggers": {"manual": {"type": "Request", "kind": "Http"}}, "actions": {"Call": action}}
    return {"name": name, "definition": definition, "connections": {"echo": connection}}


def test_flows_fail_clearly_when_a_share_is_revoked(
    api: Api, admin_headers: dict[str, str], echo_host: str
) -> None:
    _allow_loopback(api, admin_headers)
    ada = _user(api, admin_headers, "ada")
    bob = _user(api, admin_headers, "bob")
    connector = _connector(api, ada, echo_host)
    _share(api, ada, f"connectors/{connector}", "user:bob", "use")
    bobs = _connect(api, bob, connector).json()["id"]
    adas = _connect(api, ada, connector).json()["id"]
    # Binding ada's connection needs her share; bob's own is his to bind.
    assert api.client.post(f"{ENV}/flows", json=_echo_flow("borrowed", adas), headers=bob).status_code == 400
    _share(api, ada, f"connections/{adas}", "user:bob", "use")
    for name, connection in (("borrowed", adas), ("own", bobs)):
        created = api.client.post(f"{ENV}/flows", json=_echo_flow(name, connection), headers=bob)
        assert created.status_code == 201, created.text
        run = api.client.post(f"{ENV}/flows/{name}/runs", json={"body": {}}, headers=bob).json()
        assert _wait_run(api, bob, name, run["id"])["run"]["status"] == "Succeeded"
    # Ada revokes her connection's share: bob's flow refuses to start, saying why.
    assert api.client.delete(f"{ENV}/connections/{adas}/access/user:bob", headers=ada).status_code == 200
    refused = api.client.post(f"{ENV}/flows/borrowed/runs", json={"body": {}}, headers=bob)
    assert refused.status_code == 403 and "no longer shared" in refused.json()["detail"], refused.text
    # A triggered run (no one to answer 403 to) fails at the action, saying why.
    url = api.client.post(f"{ENV}/flows/borrowed/callback-url", headers=bob).json()["value"]
    fired = api.client.post("/" + url.split("://", 1)[1].partition("/")[2], json={})
    assert fired.status_code in (200, 202), fired.text
    [latest, *_] = api.client.get(f"{ENV}/flows/borrowed/runs", headers=bob).json()["items"]
    detail = _wait_run(api, bob, "borrowed", latest["id"])
    failed = next(action for action in detail["actions"] if action["name"] == "Call")
    assert detail["run"]["status"] == "Failed" and failed["error"]["code"] == "NoLongerShared", detail
    # Ada revokes the connector: bob's own connection stops too; the run fails with the reason, not a 500.
    assert api.client.delete(f"{ENV}/connectors/{connector}/access/user:bob", headers=ada).status_code == 200
    run = api.client.post(f"{ENV}/flows/own/runs", json={"body": {}}, headers=bob).json()
    detail = _wait_run(api, bob, "own", run["id"])
    assert detail["run"]["status"] == "Failed"
    failed = next(action for action in detail["actions"] if action["name"] == "Call")
    assert failed["error"]["code"] == "NoLongerShared" and "no longer shared" in failed["error"]["message"]


def test_destination_change_is_audited_and_shown_to_other_owners(
    api: Api, admin_headers: dict[str, str], echo_host: str
) -> None:
    ada = _user(api, admin_headers, "ada")
    mallory = _user(api, admin_headers, "mallory")
    connector = _connector(api, ada, echo_host)
    # Without Can edit a maker can no longer repoint someone else's connector (the hole issue 11 measured).
    moved = echo_package("evil.example:443", "header")
    upload = {"package": ("echo.zip", moved.to_zip(), "application/zip")}
    assert api.client.put(f"{ENV}/connectors/{connector}", files=upload, headers=mallory).status_code == 404
    _share(api, ada, f"connectors/{connector}", "user:mallory", "edit")
    assert api.client.put(f"{ENV}/connectors/{connector}", files=upload, headers=mallory).status_code == 200
    access = api.client.get(f"{ENV}/connectors/{connector}/access", headers=ada).json()
    [change] = access["destination_changes"]
    assert change["by"] == "mallory" and json.loads(change["changes"]["host"]["after"]) == "evil.example:443"
    events = api.client.get(
        f"{ENV}/audit", params={"action": "connector.destination-change"}, headers=admin_headers
    ).json()["items"]
    assert [(e["actor"], e["target"]) for e in events] == [("mallory", f"connector:{connector}")]
    assert events[0]["via"].startswith("token:")
    # Deleting a connector with connections needs force, and says whose connections go.
    assert _connect(api, ada, connector).status_code == 201
    refused = api.client.delete(f"{ENV}/connectors/{connector}", headers=mallory)
    assert (
        refused.status_code == 409
        and "ada" in refused.json()["detail"]
        and "force" in refused.json()["detail"]
    )
    assert api.client.delete(f"{ENV}/connectors/{connector}?force=true", headers=mallory).status_code == 204


def test_group_roles_and_membership_apply_at_once(api: Api, admin_headers: dict[str, str]) -> None:
    cara = _user(api, admin_headers, "cara", role=None)
    assert api.client.get(ENV, headers=cara).status_code == 404  # not a member
    assert api.client.post("/api/v1/groups", json={"name": "sales"}, headers=admin_headers).status_code == 201
    assert api.client.put("/api/v1/groups/sales/members/cara", headers=admin_headers).status_code == 200
    role = api.client.put(f"{ENV}/groups", json={"group": "sales", "role": "maker"}, headers=admin_headers)
    assert role.status_code == 200, role.text
    assert api.client.get(ENV, headers=cara).json()["role"] == "maker"
    listed = api.client.get("/api/v1/environments", headers=cara).json()["items"]
    assert [(e["name"], e["role"]) for e in listed] == [("default", "maker")]
    groups = api.client.get(f"{ENV}/groups", headers=cara).json()["items"]
    assert [(g["name"], g["role"], g["members"]) for g in groups] == [("sales", "maker", ["cara"])]
    assert api.client.delete("/api/v1/groups/sales/members/cara", headers=admin_headers).status_code == 200
    assert api.client.get(ENV, headers=cara).status_code == 404
    # Only platform admins manage groups.
    assert api.client.post("/api/v1/groups", json={"name": "x"}, headers=cara).status_code == 403


def test_audit_log_filters_and_admin_only(api: Api, admin_headers: dict[str, str], echo_host: str) -> None:
    ada = _user(api, admin_headers, "ada")
    connector = _connector(api, ada, echo_host)
    _share(api, ada, f"connectors/{connector}", "everyone", "use")
    assert api.client.get(f"{ENV}/audit", headers=ada).status_code == 403  # environment admins only
    shares = api.client.get(f"{ENV}/audit", params={"action": "connector."}, headers=admin_headers).json()
    assert [e["action"] for e in shares["items"]] == ["connector.share", "connector.create"]
    assert shares["items"][0]["detail"] == {
        "name": "echo",
        "grantee": "everyone:everyone",
        "permission": "use",
    }
    by_ada = api.client.get(
        "/api/v1/audit", params={"actor": "ada", "limit": 1}, headers=admin_headers
    ).json()
    assert [e["action"] for e in by_ada["items"]] == ["connector.share"]
    assert api.client.get(f"{ENV}/audit", params={"limit": 0}, headers=admin_headers).status_code == 422
    settings = api.client.put(f"{ENV}/settings", json={"audit_retention_days": 0}, headers=admin_headers)
    assert settings.status_code == 400 and "audit_retention_days" in settings.json()["detail"]
    kept = api.client.put(f"{ENV}/settings", json={"audit_retention_days": 30}, headers=admin_headers)
    assert kept.status_code == 200 and kept.json()["audit_retention_days"] == 30
