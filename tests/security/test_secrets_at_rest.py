"""Secrets and run data at rest: OAuth client secrets sealed and a placeholder in downloads (an upload
carrying it keeps the stored secret), run bodies encrypted when the environment says so (and still
readable after a key rotation), private file modes, and an access log without query values."""

from __future__ import annotations

import io
import json
import logging
import os
import stat
import zipfile
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text as sql

from tests.security.conftest import Served
from tests.services._connections_kit import oauth_package
from tether.api._access_log import QueryValueFilter, mask_query
from tether.services._client_secrets import CLIENT_SECRET_PLACEHOLDER
from tether.store import Database

MARKER = "plain-run-body-6c1e0d95"


def _properties_of(served: Served, connector: str) -> dict:
    download = served.http.get(f"{served.url}/api/v1/environments/default/connectors/{connector}/download")
    assert download.status_code == 200, download.text
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        return json.loads(archive.read("apiProperties.json"))


def _put_properties(served: Served, connector: str, properties: dict) -> None:
    files = {"apiProperties": ("apiProperties.json", json.dumps(properties).encode())}
    answer = served.call("PUT", f"/environments/default/connectors/{connector}", files=files)
    assert answer.status_code == 200, answer.text


def _client_credentials_work(served: Served) -> bool:
    """A new client-credentials connection calls the provider's protected API: its token call
    (through the runtime) succeeds only with the real client secret."""
    made = served.call(
        "POST", "/environments/default/connections", json={"connector": "svc", "parameters": {}}
    )
    assert made.status_code == 201, made.text
    tested = served.call(
        "POST", f"/environments/default/connections/{made.json()['id']}/test", json={"operation": "Me"}
    )
    return bool(tested.status_code == 200 and tested.json()["ok"])


def test_client_secret_is_sealed_a_placeholder_in_downloads_and_kept_on_upload(
    served: Served, oauth_server
) -> None:
    pkg = oauth_package(oauth_server, client="service")
    files = {
        "apiDefinition": ("d.json", pkg.files["apiDefinition.swagger.json"]),
        "apiProperties": ("p.json", pkg.files["apiProperties.json"]),
    }
    created = served.call("POST", "/environments/default/connectors", files=files, data={"name": "svc"})
    assert created.status_code == 201, created.text
    secret = oauth_server.service_client_secret
    assert secret.encode() not in served.database_bytes()

    downloaded = _properties_of(served, "svc")
    settings = downloaded["properties"]["connectionParameters"]["token"]["oAuthSettings"]
    assert settings["clientSecret"] == CLIENT_SECRET_PLACEHOLDER
    assert _client_credentials_work(served)

    # Download, edit something else, upload: the placeholder keeps the stored secret.
    downloaded["properties"]["iconBrandColor"] = "#123456"
    _put_properties(served, "svc", downloaded)
    assert _client_credentials_work(served)
    # No secret at all: kept too.
    del settings["clientSecret"]
    _put_properties(served, "svc", downloaded)
    assert _client_credentials_work(served)
    # A new secret replaces it (the provider refuses this one)...
    settings["clientSecret"] = "a-wrong-client-secret-0e1f"
    _put_properties(served, "svc", downloaded)
    assert not _client_credentials_work(served)
    # ...and the right one, given again, works again; neither is readable in the database.
    settings["clientSecret"] = secret
    _put_properties(served, "svc", downloaded)
    assert _client_credentials_work(served)
    assert (
        _properties_of(served, "svc")["properties"]["connectionParameters"]["token"]["oAuthSettings"][
            "clientSecret"
        ]
        == CLIENT_SECRET_PLACEHOLDER
    )
    raw = served.database_bytes()
    assert secret.encode() not in raw and b"a-wrong-client-secret-0e1f" not in raw
    assert all(secret not in answer for answer in served.answers)


def _echo_flow() -> dict:
    return {
        "definition": {
            "triggers": {"manual": {"type": "Request", "kind": "Http", "inputs": {"method": "POST"}}},
            "actions": {
                "Say": {"type": "Compose", "inputs": "@concat('seen ', triggerBody()?['marker'])"},
                "Keep": {
                    "type": "InitializeVariable",
                    "runAfter": {"Say": []},
                    "inputs": {"variables": [{"name": "v", "type": "string", "value": "@outputs('Say')"}]},
                },
                "Reply": {
                    "type": "Response",
                    "runAfter": {"Keep": []},
                    "inputs": {"statusCode": 200, "body": {"said": "@variables('v')"}},
                },
            },
            "outputs": {"said": {"type": "String", "value": "@outputs('Say')"}},
        }
    }


def _run_once(served: Served, url: str, marker: str) -> dict:
    answer = httpx.post(url, json={"marker": marker}, timeout=60)
    assert answer.status_code == 200 and answer.json() == {"said": f"seen {marker}"}, answer.text
    runs = served.call("GET", "/environments/default/flows/sealed/runs").json()["items"]
    detail = served.call("GET", f"/environments/default/flows/sealed/runs/{runs[0]['id']}").json()
    assert detail["run"]["status"] == "Succeeded", detail
    return detail


def test_run_bodies_are_encrypted_at_rest_and_readable_after_key_rotation(served: Served) -> None:
    created = served.call("POST", "/environments/default/flows", json={"name": "sealed", **_echo_flow()})
    assert created.status_code == 201, created.text
    url = served.call("POST", "/environments/default/flows/sealed/callback-url").json()["value"]

    # Off (the default): the body is stored as it came; this is what the setting changes.
    _run_once(served, url, "visible-when-off-41d2")
    assert b"visible-when-off-41d2" in served.database_bytes()

    answer = served.call("PUT", "/environments/default/settings", json={"encrypt_run_data": True})
    assert answer.status_code == 200 and answer.json()["encrypt_run_data"] is True
    detail = _run_once(served, url, MARKER)
    assert MARKER.encode() not in served.database_bytes()  # trigger, actions, variables, outputs
    assert detail["trigger"]["outputs"]["body"] == {"marker": MARKER}  # reads decrypt
    say = next(a for a in detail["actions"] if a["name"] == "Say")
    assert say["outputs"] == f"seen {MARKER}"
    assert detail["run"]["outputs"]["said"]["value"] == f"seen {MARKER}"

    # Rotation: earlier runs still read; new runs seal with the new key and read too.
    rotated = served.call("POST", "/admin/rotate-key")
    assert rotated.status_code == 200, rotated.text
    runs = served.call("GET", "/environments/default/flows/sealed/runs").json()["items"]
    again = served.call("GET", f"/environments/default/flows/sealed/runs/{runs[0]['id']}").json()
    assert again["trigger"]["outputs"]["body"] == {"marker": MARKER}
    later = _run_once(served, url, MARKER + "-after")
    assert later["trigger"]["outputs"]["body"] == {"marker": MARKER + "-after"}
    assert (MARKER + "-after").encode() not in served.database_bytes()


def test_sqlite_files_are_created_owner_only(tmp_path: Path) -> None:
    old = os.umask(0o022)  # the usual umask, under which SQLite would make 0644 files
    try:
        path = tmp_path / "fresh" / "tether.db"
        with Database(f"sqlite:///{path}") as db, db.engine.begin() as connection:
            connection.execute(sql("CREATE TABLE t (x TEXT)"))
            connection.execute(sql("INSERT INTO t VALUES ('a')"))
            modes = {
                p.name: stat.S_IMODE(p.stat().st_mode)
                for p in path.parent.iterdir()
                if p.name.startswith("tether.db")
            }
        assert {"tether.db", "tether.db-wal"} <= set(modes)
        assert set(modes.values()) == {0o600}, modes
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        # A database left readable by an older version is made private when opened.
        path.chmod(0o644)
        Database(f"sqlite:///{path}").close()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    finally:
        os.umask(old)


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        pytest.param("/redirect/abc?code=s3cr3t&state=xyz", "/redirect/abc?code=***&state=***", id="oauth"),
        pytest.param("/api/v1/flows/f/triggers/t/invoke?sig=AbC", "/api/v1/flows/f/triggers/t/invoke?sig=***",
                     id="signature"),
        pytest.param("/api/v1/health", "/api/v1/health", id="no-query"),
        pytest.param("/x?opaque", "/x?opaque=***", id="bare-value"),
    ],
)  # fmt: skip
def test_access_log_masks_query_values(path: str, logged: str) -> None:
    assert mask_query(path) == logged
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", path, "1.1", 200), None,
    )  # fmt: skip
    assert QueryValueFilter().filter(record)
    assert record.getMessage() == f'127.0.0.1:5 - "GET {logged} HTTP/1.1" 200'
