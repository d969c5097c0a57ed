from __future__ import annotations

import io
import json
import zipfile

from tests._paths import SAMPLES, need
from tests.api.conftest import Api

BASE = "/api/v1/environments/default/connectors/import"


def test_import_postman_creates_a_connector_with_its_report(api: Api, admin_headers: dict[str, str]) -> None:
    sample = need(SAMPLES / "postman" / "newman-postman-echo-v2.postman_collection.json")
    answer = api.client.post(
        BASE,
        data={"format": "postman"},
        files={"file": (sample.name, sample.read_bytes())},
        headers=admin_headers,
    )
    assert answer.status_code == 201, answer.text
    created = answer.json()
    assert created["current_revision"] == 1
    assert created["report"]
    assert not [f for f in created["findings"] if f["severity"] == "error"]


def _operation_ids(api: Api, headers: dict[str, str], name: str) -> set[str]:
    """The operations of a stored connector, read back from its downloaded package."""
    answer = api.client.get(f"/api/v1/environments/default/connectors/{name}/download", headers=headers)
    assert answer.status_code == 200, answer.text
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        definition = json.loads(archive.read("apiDefinition.swagger.json"))
    return {op["operationId"] for item in definition["paths"].values() for op in item.values()}


def test_import_postman_merges_duplicates_like_the_cli(api: Api, admin_headers: dict[str, str]) -> None:
    sample = need(SAMPLES / "postman" / "newman-multi-level-folders-v2.postman_collection.json")
    answers = {
        name: api.client.post(
            BASE,
            data={"format": "postman", "name": name, **extra},
            files={"file": (sample.name, sample.read_bytes())},
            headers=admin_headers,
        )
        for name, extra in (("merged", {}), ("kept", {"keep_duplicates": "true"}))
    }
    for answer in answers.values():
        assert answer.status_code == 201, answer.text
    merges = [i for i in answers["merged"].json()["report"] if "merged into operation 'F1R1'" in i["message"]]
    assert sorted(i["where"] for i in merges) == [
        "F1 / F1.R2",
        "F1 / F1.R3",
        "F2 / F2.F3 / F2.F3.R1",
        "F2 / F2.R1",
        "R1",
    ]
    assert _operation_ids(api, admin_headers, "merged") == {"F1R1"}
    assert not [i for i in answers["kept"].json()["report"] if "merged into" in i["message"]]
    assert len(_operation_ids(api, admin_headers, "kept")) == 6


def test_import_curl_and_openapi(api: Api, admin_headers: dict[str, str]) -> None:
    curl = api.client.post(
        BASE,
        data={"format": "curl", "command": "curl https://api.example.com/v2/things", "name": "things"},
        headers=admin_headers,
    )
    assert curl.status_code == 201, curl.text
    spec = need(SAMPLES / "openapi3" / "uspto.json")
    openapi = api.client.post(
        BASE,
        data={"format": "openapi"},
        files={"file": (spec.name, spec.read_bytes())},
        headers=admin_headers,
    )
    assert openapi.status_code == 201, openapi.text


def test_bad_import_requests_are_clear_problems(api: Api, admin_headers: dict[str, str]) -> None:
    unknown = api.client.post(BASE, data={"format": "raml"}, headers=admin_headers)
    assert unknown.status_code == 400
    assert "unknown format 'raml'" in unknown.json()["detail"]
    missing = api.client.post(BASE, data={"format": "postman"}, headers=admin_headers)
    assert "needs a 'file'" in missing.json()["detail"]
    broken = api.client.post(
        BASE, data={"format": "postman"}, files={"file": ("c.json", b"{nope")}, headers=admin_headers
    )
    assert broken.status_code == 400
    assert broken.json()["detail"].startswith("c.json")
    listed = api.client.get("/api/v1/environments/default/connectors", headers=admin_headers).json()["items"]
    assert listed == []
