"""Every list is paged the same way: ``limit`` and ``cursor`` in; ``items``, ``next``, ``next_cursor`` out."""

from __future__ import annotations

from tests.api.conftest import Api

ENV = "/api/v1/environments/default"


def test_every_list_route_is_paged_the_same_way(api: Api, admin_headers: dict[str, str]) -> None:
    """Structural: any GET answering ``items`` (today's lists and those added later) takes
    ``limit`` and ``cursor`` and answers ``next``; a new list route must use ``_paging.py``."""
    document = api.client.get("/api/v1/openapi.json").json()
    lists = 0
    for path, item in document["paths"].items():
        operation = item.get("get")
        if operation is None or not path.startswith("/api/v1/"):
            continue
        path_params = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
        if path_params - {"env"}:
            continue  # a list under one resource: covered by the same helper, needs that resource
        answer = api.client.get(path.replace("{env}", "default"), headers=admin_headers)
        if answer.status_code != 200 or not isinstance(answer.json(), dict) or "items" not in answer.json():
            continue
        lists += 1
        query = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        assert {"limit", "cursor"} <= query, path
        assert {"next", "next_cursor"} <= set(answer.json()), path
    assert lists >= 10


def test_following_next_walks_the_whole_list_once(api: Api, admin_headers: dict[str, str]) -> None:
    for number in range(5):
        put = api.client.put(f"{ENV}/variables/V{number}", json={"value": str(number)}, headers=admin_headers)
        assert put.status_code == 200, put.text
    whole = api.client.get(f"{ENV}/variables", headers=admin_headers).json()
    assert whole["next"] is None and whole["next_cursor"] is None
    seen, link, pages = [], f"{ENV}/variables?limit=2", 0
    while link:
        page = api.client.get(link, headers=admin_headers).json()
        assert len(page["items"]) <= 2
        seen += [v["name"] for v in page["items"]]
        link, pages = page["next"], pages + 1
    assert seen == [v["name"] for v in whole["items"]] and len(seen) == 5 and pages == 3


def test_a_cursor_the_server_did_not_give_is_refused_clearly(api: Api, admin_headers: dict[str, str]) -> None:
    for cursor in ("not-a-cursor", "eyJvIjogLTF9"):  # garbage, and {"o": -1}
        answer = api.client.get(f"{ENV}/flows", params={"cursor": cursor}, headers=admin_headers)
        assert answer.status_code == 400 and answer.json()["code"] == "invalid-input"
        assert "next_cursor" in answer.json()["detail"]
    too_many = api.client.get(f"{ENV}/flows", params={"limit": 5000}, headers=admin_headers)
    assert too_many.status_code == 422 and too_many.json()["errors"][0]["pointer"] == "/query/limit"
