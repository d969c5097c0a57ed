"""No lost updates: ETags and If-Match on connectors, connections, flows and environment settings.

Through a real server (uvicorn on a free port) on both backends. The concurrent cases send two
saves carrying the same ETag at the same moment (two threads released by one barrier, each with
its own HTTP connection): exactly one is saved, the other is refused with 412 naming who changed
it, and the saved state is the winner's whole change.
"""

from __future__ import annotations

import httpx

from tests.api._live import Live, at_once, live, unique
from tests.services._connections_kit import api_key_package

__all__ = ["live"]  # the module's server fixture

ENV = "/api/v1/environments/default"
FLOW = {
    "triggers": {"manual": {"type": "Request", "kind": "Http"}},
    "actions": {"Echo": {"type": "Compose", "inputs": "@triggerBody()"}},
}


def _connector(http: httpx.Client) -> str:
    pkg = api_key_package()
    files = {
        "apiDefinition": ("d.json", pkg.files["apiDefinition.swagger.json"]),
        "apiProperties": ("p.json", pkg.files["apiProperties.json"]),
    }
    answer = http.post(f"{ENV}/connectors", files=files, data={"name": unique("keyed")})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def _flow(http: httpx.Client) -> str:
    name = unique("echo")
    answer = http.post(f"{ENV}/flows", json={"name": name, "definition": FLOW})
    assert answer.status_code == 201, answer.text
    return f"{ENV}/flows/{name}"


def _connection(http: httpx.Client) -> str:
    connector = _connector(http)
    answer = http.post(f"{ENV}/connections", json={"connector": connector, "parameters": {"api_key": "k1"}})
    assert answer.status_code == 201, answer.text
    return f"{ENV}/connections/{answer.json()['id']}"


def _one_won(answers: list[httpx.Response]) -> tuple[int, httpx.Response]:
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200, 412], [a.text for a in answers]
    refused = next(a for a in answers if a.status_code == 412)
    problem = refused.json()
    assert problem["code"] == "precondition-failed" and problem["changed_by"] == "admin"
    assert problem["changed_by_name"] == "Administrator"  # what the portal's banner shows
    assert "changed by admin" in problem["detail"] and "since you loaded it" in problem["detail"]
    winner = next(i for i, a in enumerate(answers) if a.status_code == 200)
    return winner, answers[winner]


def test_two_flow_saves_with_one_etag_save_one_and_refuse_the_other(live: Live) -> None:
    with live.client() as http:
        path = _flow(http)
        etag = http.get(path).headers["ETag"]
    names = ["first", "second"]
    answers = at_once(
        live,
        *(
            (lambda h, n=n: h.patch(path, json={"display_name": n}, headers={"If-Match": etag}))
            for n in names
        ),
    )
    winner, won = _one_won(answers)
    with live.client() as http:
        now = http.get(path)
    assert now.json()["display_name"] == names[winner]  # the winner's change, whole
    assert now.headers["ETag"] == won.headers["ETag"] != etag


def test_two_connection_saves_with_one_etag(live: Live) -> None:
    with live.client() as http:
        path = _connection(http)
        etag = http.get(path).headers["ETag"]
    names = ["left", "right"]
    answers = at_once(
        live,
        *(
            (lambda h, n=n: h.patch(path, json={"display_name": n}, headers={"If-Match": etag}))
            for n in names
        ),
    )
    winner, _won = _one_won(answers)
    with live.client() as http:
        assert http.get(path).json()["display_name"] == names[winner]


def test_two_settings_saves_with_one_etag(live: Live) -> None:
    path = f"{ENV}/settings"
    with live.client() as http:
        assert http.put(path, json={"audit_retention_days": 30}).status_code == 200
        etag = http.get(path).headers["ETag"]
    days = [40, 50]
    answers = at_once(
        live,
        *(
            (lambda h, d=d: h.put(path, json={"audit_retention_days": d}, headers={"If-Match": etag}))
            for d in days
        ),
    )
    winner, _won = _one_won(answers)
    with live.client() as http:
        assert http.get(path).json()["audit_retention_days"] == days[winner]


def test_two_connector_uploads_with_one_etag_add_one_revision(live: Live) -> None:
    with live.client() as http:
        connector = _connector(http)
        path = f"{ENV}/connectors/{connector}"
        etag = http.get(path).headers["ETag"]
    pkg = api_key_package()

    def upload(http: httpx.Client, note: str) -> httpx.Response:
        files = {"apiDefinition": ("d.json", pkg.files["apiDefinition.swagger.json"])}
        return http.put(path, files=files, data={"note": note}, headers={"If-Match": etag})

    answers = at_once(live, lambda h: upload(h, "mine"), lambda h: upload(h, "theirs"))
    winner, _won = _one_won(answers)
    with live.client() as http:
        revisions = http.get(f"{path}/revisions").json()["items"]
    assert len(revisions) == 2
    assert {r["note"] for r in revisions} >= {["mine", "theirs"][winner]}


def test_a_stale_etag_refuses_update_and_delete_and_no_if_match_still_saves(live: Live) -> None:
    with live.client() as http:
        path = _flow(http)
        loaded = http.get(path).headers["ETag"]
        saved = http.patch(path, json={"display_name": "new"}, headers={"If-Match": loaded})
        assert saved.status_code == 200 and saved.headers["ETag"] != loaded
        stale = http.patch(path, json={"display_name": "lost?"}, headers={"If-Match": loaded})
        assert stale.status_code == 412 and stale.json()["etag"] == saved.headers["ETag"]
        assert http.delete(path, headers={"If-Match": loaded}).status_code == 412
        assert http.get(path).json()["display_name"] == "new"
        assert http.patch(path, json={"display_name": "anyway"}).status_code == 200  # no If-Match: as before
        weak = http.patch(
            path, json={"display_name": "weak"}, headers={"If-Match": f"W/{saved.headers['ETag']}"}
        )
        assert weak.status_code == 412  # If-Match compares strongly (RFC 9110)
        current = http.get(path).headers["ETag"]
        assert http.delete(path, headers={"If-Match": current}).status_code == 204


def test_enable_disable_and_rollback_check_if_match_and_answer_the_new_etag(live: Live) -> None:
    with live.client() as http:
        path = _flow(http)
        loaded = http.get(path).headers["ETag"]
        disabled = http.post(f"{path}/disable", headers={"If-Match": loaded})
        assert disabled.status_code == 200 and disabled.headers["ETag"] != loaded
        stale = http.post(f"{path}/enable", headers={"If-Match": loaded})
        assert stale.status_code == 412 and stale.json()["etag"] == disabled.headers["ETag"]
        assert http.get(path).json()["enabled"] is False  # the stale switch changed nothing
        enabled = http.post(f"{path}/enable", headers={"If-Match": disabled.headers["ETag"]})
        assert enabled.status_code == 200 and enabled.json()["enabled"] is True

        connector = f"{ENV}/connectors/{_connector(http)}"
        first = http.get(connector).headers["ETag"]
        pkg = api_key_package()
        files = {"apiDefinition": ("d.json", pkg.files["apiDefinition.swagger.json"])}
        assert http.put(connector, files=files, headers={"If-Match": first}).status_code == 200
        refused = http.post(f"{connector}/rollback", json={"revision": 1}, headers={"If-Match": first})
        assert refused.status_code == 412, refused.text
        current = http.get(connector).headers["ETag"]
        rolled = http.post(f"{connector}/rollback", json={"revision": 1}, headers={"If-Match": current})
        assert rolled.status_code == 200 and rolled.headers["ETag"] != current
