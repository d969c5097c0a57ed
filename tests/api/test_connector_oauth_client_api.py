"""The API's ``client_id``/``client_secret`` form fields set a corpus connector's OAuth app."""

from __future__ import annotations

import json

from tests._paths import CORPUS, need
from tests.api.conftest import Api
from tether.definition import PROPERTIES_FILE, package_from_zip

BASE = "/api/v1/environments/default/connectors"


def test_owner_sets_the_oauth_app_of_a_corpus_connector(api: Api, admin_headers: dict[str, str]) -> None:
    folder = need(CORPUS / "certified-connectors" / "Zoho Mail")
    files = {
        "apiDefinition": ("apiDefinition.swagger.json", (folder / "apiDefinition.swagger.json").read_bytes()),
        "apiProperties": ("apiProperties.json", (folder / PROPERTIES_FILE).read_bytes()),
    }
    created = api.client.post(BASE, files=files, data={"name": "zoho"}, headers=admin_headers)
    assert created.status_code == 201, created.text
    refused = api.client.put(
        f"{BASE}/zoho", data={"client_id": "<Enter Your Client ID>"}, headers=admin_headers
    )
    assert refused.status_code == 400 and "placeholder" in refused.json()["detail"]
    app = {"client_id": "1000.Q3JKZB7W8LTH", "client_secret": "s3cr3t"}
    updated = api.client.put(f"{BASE}/zoho", data=app, headers=admin_headers)
    assert updated.status_code == 200, updated.text
    assert updated.json()["current_revision"] == 2
    assert "s3cr3t" not in updated.text
    download = api.client.get(f"{BASE}/zoho/download", headers=admin_headers)
    properties = json.loads(package_from_zip(download.content).files[PROPERTIES_FILE])
    settings = properties["properties"]["connectionParameters"]["token"]["oAuthSettings"]
    assert settings["clientId"] == "1000.Q3JKZB7W8LTH"
