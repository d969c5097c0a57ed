from __future__ import annotations

import io
import json
import re
import zipfile

from tests._paths import EXAMPLE_CONNECTOR
from tests.api.conftest import Api
from tether.definition import DEFINITION_FILE, PROPERTIES_FILE, package_from_zip

BASE = "/api/v1/environments/default/connectors"


def _parts() -> dict[str, tuple[str, bytes, str]]:
    return {
        "apiDefinition": (
            DEFINITION_FILE,
            (EXAMPLE_CONNECTOR / DEFINITION_FILE).read_bytes(),
            "application/json",
        ),
        "apiProperties": (
            PROPERTIES_FILE,
            (EXAMPLE_CONNECTOR / PROPERTIES_FILE).read_bytes(),
            "application/json",
        ),
    }


def test_create_from_parts_then_update_download_rollback_delete(
    api: Api, admin_headers: dict[str, str]
) -> None:
    created = api.client.post(BASE, files=_parts(), headers=admin_headers)
    assert created.status_code == 201, created.text
    connector = created.json()
    assert (connector["name"], connector["display_name"]) == ("sentiment-analysis", "Sentiment Analysis")
    assert connector["findings"] == []
    cid = connector["id"]

    definition = json.loads((EXAMPLE_CONNECTOR / DEFINITION_FILE).read_bytes())
    definition["paths"]["/sentiment"]["post"]["summary"] = "Score sentiment"
    new_definition = json.dumps(definition).encode()
    updated = api.client.put(
        f"{BASE}/{cid}",
        files={"apiDefinition": (DEFINITION_FILE, new_definition, "application/json")},
        data={"note": "renamed the action"},
        headers=admin_headers,
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["current_revision"] == 2

    revisions = api.client.get(f"{BASE}/{cid}/revisions", headers=admin_headers).json()["items"]
    assert [(r["number"], r["note"]) for r in revisions] == [(1, None), (2, "renamed the action")]
    # Parts replace only themselves: the apiProperties of revision 1 are kept.
    assert sorted(revisions[1]["files"]) == [DEFINITION_FILE, PROPERTIES_FILE]

    first = api.client.get(f"{BASE}/{cid}/download", params={"revision": 1}, headers=admin_headers)
    assert first.headers["content-type"] == "application/zip"
    assert 'filename="sentiment-analysis-r1.zip"' in first.headers["content-disposition"]
    assert package_from_zip(first.content).files[DEFINITION_FILE] == _parts()["apiDefinition"][1]
    current = package_from_zip(api.client.get(f"{BASE}/{cid}/download", headers=admin_headers).content)
    assert current.files[DEFINITION_FILE] == new_definition

    rolled = api.client.post(f"{BASE}/{cid}/rollback", json={"revision": 1}, headers=admin_headers)
    assert rolled.json()["current_revision"] == 3
    restored = package_from_zip(api.client.get(f"{BASE}/{cid}/download", headers=admin_headers).content)
    assert restored.files[DEFINITION_FILE] == _parts()["apiDefinition"][1]

    assert api.client.get(f"{BASE}/sentiment-analysis", headers=admin_headers).json()["id"] == cid
    assert api.client.delete(f"{BASE}/{cid}", headers=admin_headers).status_code == 204
    gone = api.client.get(f"{BASE}/{cid}", headers=admin_headers)
    assert gone.status_code == 404
    assert gone.headers["content-type"] == "application/problem+json"


def test_findings_are_reported_but_do_not_block_saving(api: Api, admin_headers: dict[str, str]) -> None:
    definition = json.loads((EXAMPLE_CONNECTOR / DEFINITION_FILE).read_bytes())
    definition["paths"]["/sentiment"]["post"]["x-ms-visibility"] = "sometimes"
    files = {"apiDefinition": (DEFINITION_FILE, json.dumps(definition).encode(), "application/json")}
    created = api.client.post(BASE, files=files, headers=admin_headers)
    assert created.status_code == 201
    [finding] = created.json()["findings"]
    assert finding["severity"] == "error"
    assert finding["pointer"] == "/paths/~1sentiment/post/x-ms-visibility"


def test_validate_endpoint_profiles(api: Api, admin_headers: dict[str, str]) -> None:
    custom = api.client.post(f"{BASE}/validate", files=_parts(), headers=admin_headers).json()
    assert custom == {"profile": "custom", "findings": []}
    strict = api.client.post(
        f"{BASE}/validate", files=_parts(), data={"profile": "certification"}, headers=admin_headers
    ).json()
    assert any(f["rule"] == "certification/https-only" for f in strict["findings"])
    bad = api.client.post(f"{BASE}/validate", files=_parts(), data={"profile": "x"}, headers=admin_headers)
    assert bad.status_code == 400
    assert "unknown profile 'x'" in bad.json()["detail"]


def test_bad_uploads_are_problems_that_say_how_to_fix(api: Api, admin_headers: dict[str, str]) -> None:
    empty = api.client.post(BASE, data={"name": "x"}, headers=admin_headers)
    assert empty.status_code == 400
    assert "send a 'package' zip or the parts" in empty.json()["detail"]
    not_zip = api.client.post(
        BASE, files={"package": ("p.zip", b"nope", "application/zip")}, headers=admin_headers
    )
    assert not_zip.json()["detail"].startswith("p.zip: not a zip archive")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("apiProperties.json", "{}")
    no_definition = api.client.post(
        BASE, files={"package": ("p.zip", buffer.getvalue(), "application/zip")}, headers=admin_headers
    )
    assert no_definition.status_code == 400
    assert "apiDefinition.swagger.json is missing" in no_definition.json()["detail"]
    invalid_body = api.client.post(f"{BASE}/x/rollback", json={"revision": 0}, headers=admin_headers)
    assert invalid_body.status_code == 422
    problem = invalid_body.json()
    assert problem["type"].endswith("/invalid-request")
    assert problem["issues"][0]["location"] == "body/revision"


def test_duplicate_name_is_a_conflict(api: Api, admin_headers: dict[str, str]) -> None:
    assert api.client.post(BASE, files=_parts(), headers=admin_headers).status_code == 201
    again = api.client.post(BASE, files=_parts(), headers=admin_headers)
    assert again.status_code == 409
    assert "already exists" in again.json()["detail"]


def test_health_and_self_hosted_docs(api: Api) -> None:
    health = api.client.get("/api/v1/health")
    assert health.json()["status"] == "ok"
    spec = api.client.get("/api/v1/openapi.json").json()
    assert "/api/v1/environments/{env}/connectors" in spec["paths"]
    page = api.client.get("/docs").text
    assets = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", page)
    assert assets, page
    for asset in assets:
        assert asset.startswith("/"), f"docs page loads {asset} from outside this server"
        assert api.client.get(asset).status_code == 200, asset
    assert "/api/v1/openapi.json" in page
