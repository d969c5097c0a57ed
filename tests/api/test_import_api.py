from __future__ import annotations

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
