"""``Idempotency-Key`` on creates and run starts, through a real server on both backends."""

from __future__ import annotations

import httpx

from tests.api._live import Live, at_once, live, unique
from tests.api.test_etags import FLOW
from tests.services._connections_kit import api_key_package

__all__ = ["live"]  # the module's server fixture

ENV = "/api/v1/environments/default"


def _keyed(key: str) -> dict[str, str]:
    return {"Idempotency-Key": key}


def _named(http: httpx.Client, collection: str, name: str) -> int:
    """How many of ``collection`` are called ``name`` (other tests share the server)."""
    return sum(item["name"] == name for item in http.get(f"{ENV}/{collection}").json()["items"])


def test_a_retried_flow_create_gets_the_first_answer_and_creates_once(live: Live) -> None:
    body, key = {"name": unique("once"), "definition": FLOW}, unique("create-once")
    with live.client() as http:
        first = http.post(f"{ENV}/flows", json=body, headers=_keyed(key))
        again = http.post(f"{ENV}/flows", json=body, headers=_keyed(key))
        assert first.status_code == again.status_code == 201, again.text
        assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
        assert again.headers["content-type"] == first.headers["content-type"]
        assert _named(http, "flows", body["name"]) == 1
        # The same key with another body is refused, clearly.
        other = http.post(f"{ENV}/flows", json={**body, "name": unique("twice")}, headers=_keyed(key))
        assert other.status_code == 422 and other.json()["code"] == "idempotency-key-reused"
        # Without the header nothing changes: a second create of the same name is a conflict.
        assert http.post(f"{ENV}/flows", json=body).status_code == 409


def test_a_retried_upload_with_a_new_multipart_boundary_is_the_same_request(live: Live) -> None:
    pkg = api_key_package()
    files = {"apiDefinition": ("d.json", pkg.files["apiDefinition.swagger.json"])}
    name, key = unique("keyed"), unique("upload")
    with live.client() as http:
        answers = [
            http.post(f"{ENV}/connectors", files=files, data={"name": name}, headers=_keyed(key))
            for _ in range(2)
        ]
        assert [a.status_code for a in answers] == [201, 201], answers[1].text
        assert answers[0].json()["id"] == answers[1].json()["id"]
        assert _named(http, "connectors", name) == 1


def test_a_retried_run_start_starts_one_run(live: Live) -> None:
    flow, key = unique("runner"), unique("run")
    with live.client() as http:
        assert http.post(f"{ENV}/flows", json={"name": flow, "definition": FLOW}).status_code == 201
        runs = [
            http.post(f"{ENV}/flows/{flow}/runs", json={"body": {"n": 1}}, headers=_keyed(key))
            for _ in range(2)
        ]
        assert [r.status_code for r in runs] == [202, 202]
        assert runs[0].json()["id"] == runs[1].json()["id"]
        listed = http.get(f"{ENV}/flows/{flow}/runs").json()["items"]
        assert [r["id"] for r in listed] == [runs[0].json()["id"]]


def _exactly_one_first_answer(answers: list[httpx.Response], created: int) -> None:
    """One request did the work; each other one got its answer replayed or was told to retry."""
    firsts = [a for a in answers if a.status_code == created and "Idempotent-Replayed" not in a.headers]
    assert len(firsts) == 1, [(a.status_code, a.text) for a in answers]
    for answer in answers:
        if answer.status_code == 409:
            assert answer.json()["code"] == "idempotency-in-progress" and answer.headers["Retry-After"] == "1"
        elif answer is not firsts[0]:
            assert answer.status_code == created and answer.json() == firsts[0].json()


def test_concurrent_creates_with_one_key_create_exactly_one(live: Live) -> None:
    body, key = {"name": unique("racy"), "definition": FLOW}, unique("race")
    answers = at_once(live, *[lambda h: h.post(f"{ENV}/flows", json=body, headers=_keyed(key))] * 4)
    _exactly_one_first_answer(answers, 201)
    with live.client() as http:
        assert _named(http, "flows", body["name"]) == 1
        # Once the first is done, a retry gets its answer.
        retry = http.post(f"{ENV}/flows", json=body, headers=_keyed(key))
        assert retry.status_code == 201 and retry.headers["Idempotent-Replayed"] == "true"


def test_concurrent_run_starts_with_one_key_start_exactly_one_run(live: Live) -> None:
    flow = unique("racer")
    with live.client() as http:
        assert http.post(f"{ENV}/flows", json={"name": flow, "definition": FLOW}).status_code == 201
    path = f"{ENV}/flows/{flow}/runs"
    key = unique("run-race")
    answers = at_once(live, *[lambda h: h.post(path, json={"body": 1}, headers=_keyed(key))] * 4)
    _exactly_one_first_answer(answers, 202)
    with live.client() as http:
        assert len(http.get(path).json()["items"]) == 1


def test_a_bad_key_is_refused_and_other_callers_keys_are_their_own(live: Live) -> None:
    with live.client() as http:
        too_long = http.post(
            f"{ENV}/flows", json={"name": "x", "definition": FLOW}, headers=_keyed("k" * 256)
        )
        assert too_long.status_code == 400 and "Idempotency-Key" in too_long.json()["detail"]
        created = http.post("/api/v1/users", json={"username": "maker2", "password": "maker2-password!"})
        assert created.status_code == 201, created.text
        assert http.put(f"{ENV}/members", json={"username": "maker2", "role": "maker"}).status_code == 200
        mine = http.post(f"{ENV}/flows", json={"name": "mine", "definition": FLOW}, headers=_keyed("shared"))
        assert mine.status_code == 201
    token = httpx.post(
        f"{live.url}/api/v1/tokens", json={"name": "t"}, auth=("maker2", "maker2-password!")
    ).json()["token"]
    with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as other:
        theirs = other.post(
            f"{ENV}/flows", json={"name": "theirs", "definition": FLOW}, headers=_keyed("shared")
        )
        assert theirs.status_code == 201 and "Idempotent-Replayed" not in theirs.headers
        assert theirs.json()["name"] == "theirs"
