"""The wizard's forms over HTTP (no browser needed): errors shown where they happened, with the line."""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterator

import httpx
import pytest

from tests.portal.conftest import Portal, csrf_of
from tether import services
from tether.definition import DEFINITION_FILE, ICON_FILE, PROPERTIES_FILE, SCRIPT_FILE


@pytest.fixture
def client(portal: Portal) -> Iterator[httpx.Client]:
    cookie = portal.session_cookie(portal.admin)
    with httpx.Client(base_url=portal.url, cookies={"tether_session": cookie["value"]}) as client:
        token = csrf_of(client.get("/me").text)
        client.headers["X-CSRF-Token"] = token
        yield client


def _png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x00\x7e\xe5" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _create(client: httpx.Client, title: str, **files: bytes) -> str:
    form = {
        "title": title,
        "scheme": "https",
        "host": "api.example.com",
        "base_path": "/v1",
        "color": "#123456",
    }
    answer = client.post(
        "/e/default/connectors/new", data=form, files={k: (k + ".png", v) for k, v in files.items()} or None
    )
    assert answer.status_code == 303, answer.text
    return answer.headers["location"].split("/")[4]


def test_general_tab_checks_the_icon_and_the_host(client: httpx.Client, portal: Portal) -> None:
    wide = client.post(
        "/e/default/connectors/new",
        data={"title": "Icons", "host": "api.example.com", "color": "#123456"},
        files={"icon": ("icon.png", _png(64, 32))},
    )
    assert wide.status_code == 400 and "must be square; this one is 64x32 pixels" in wide.text
    bad_host = client.post("/e/default/connectors/new", data={"title": "Hosts", "host": "https://x/y"})
    assert bad_host.status_code == 400 and "The host is a name or address" in bad_host.text
    name = _create(client, "Icons", icon=_png(64, 64))
    files = services.get_revision_files(portal.db, portal.admin, "default", name)
    assert files[ICON_FILE].startswith(b"\x89PNG")
    properties = json.loads(files[PROPERTIES_FILE])["properties"]
    assert properties["iconBrandColor"] == "#123456"
    assert client.get(f"/e/default/connectors/{name}/icon").headers["content-type"] == "image/png"


def test_code_tab_refuses_syntax_errors_and_forbidden_imports_with_the_line(
    client: httpx.Client, portal: Portal
) -> None:
    name = _create(client, "Coded")
    url = f"/e/default/connectors/{name}/edit/code"
    syntax = client.post(url, data={"script": "x = 1\ndef broken(:\n"})
    assert syntax.status_code == 400 and "script.py, line 2: syntax error" in syntax.text
    forbidden = client.post(url, data={"script": "import json\nimport subprocess\n"})
    assert forbidden.status_code == 400 and "script.py, line 2: &#39;import subprocess&#39; is forbidden" in (
        forbidden.text
    )
    good = client.post(url, data={"script": "import json\n"})
    assert good.status_code == 303
    assert (
        services.get_revision_files(portal.db, portal.admin, "default", name)[SCRIPT_FILE] == b"import json\n"
    )


def test_swagger_editor_marks_findings_and_refuses_broken_json(client: httpx.Client, portal: Portal) -> None:
    name = _create(client, "Edited")
    url = f"/e/default/connectors/{name}/edit/definition"
    definition = json.loads(
        services.get_revision_files(portal.db, portal.admin, "default", name)[DEFINITION_FILE]
    )
    definition["paths"] = {"/items": {"get": {"operationId": "ListItems", "x-ms-visibility": "sometimes",
                                              "responses": {"200": {"description": "ok"}}}}}  # fmt: skip
    saved = client.post(url + "/source", data={"source": json.dumps(definition, indent=2)})
    assert saved.status_code == 303
    editor = client.get(url + "?view=editor").text
    assert "/paths/~1items/get/x-ms-visibility" in editor and 'data-marks="' in editor
    assert 'data-line="' in editor  # each finding links to its line in the editor
    broken = client.post(url + "/source", data={"source": '{\n  "swagger": "2.0",\n  oops\n}'})
    assert broken.status_code == 400 and "apiDefinition.swagger.json, line 3: not valid JSON" in broken.text


def test_security_tab_moves_a_global_redirect_connector_to_its_own_url(
    client: httpx.Client, portal: Portal
) -> None:
    name = _create(client, "OAuth Global")
    url = f"/e/default/connectors/{name}/edit/security"
    oauth = {"kind": "oauth2", "provider": "oauth2", "client_id": "abc", "client_secret": "s3cret-value",
             "authorization_url": "https://login.example.com/authorize", "token_url": "https://login.example.com/token",
             "scopes": "read write"}  # fmt: skip
    assert client.post(url, data=oauth).status_code == 303
    services.set_redirect_mode(
        portal.db, portal.admin, "default", name, "Global", public_url=portal.settings.public_url
    )
    page = client.get(url).text
    assert "Update to unique redirect URL" in page and "s3cret-value" not in page
    assert client.post(url, data={**oauth, "client_secret": "", "unique_redirect": "on"}).status_code == 303
    found = services.connector_oauth(
        portal.db, portal.admin, "default", name, public_url=portal.settings.public_url
    )
    assert found is not None and found.redirect_mode == "GlobalPerConnector"
    assert found.redirect_url in client.get(url).text


def test_test_calls_are_sealed_and_only_the_last_twenty_kept(client: httpx.Client, portal: Portal) -> None:
    from datetime import UTC, datetime

    from sqlalchemy import select

    from tether.secrets import KeyRing
    from tether.store import PortalTestCall

    name = _create(client, "History")
    ring = KeyRing.from_keys(KeyRing.generate_key())
    admin = portal.admin
    connector_id = services.get_connector(portal.db, admin, "default", name).id
    with portal.db.session() as session:  # 21 older calls in one transaction (a commit each is slow)
        for number in range(21):
            sealed = ring.encrypt_json({"headers": {}, "body": {"secret-looking": f"value-{number}"}})
            row = PortalTestCall(
                user_id=admin.user_id, connector_id=connector_id, operation_id=f"Op{number}", status=200,
                duration_ms=1.0, sealed=sealed, created_at=datetime(2026, 1, 1, 0, number, tzinfo=UTC),
            )  # fmt: skip
            session.add(row)
    services.record_test_call(
        portal.db, admin, "default", name, operation_id="Op21", connection_id=None,
        status=200, duration_ms=1.0, headers={"x": "1"}, body={"secret-looking": "value-21"}, keyring=ring,
    )  # fmt: skip
    calls = services.list_test_calls(portal.db, admin, "default", name, keyring=ring)
    assert [c.operation_id for c in calls] == [f"Op{n}" for n in range(21, 1, -1)]
    assert calls[0].body == {"secret-looking": "value-21"}
    with portal.db.session() as session:
        query = select(PortalTestCall.sealed).where(PortalTestCall.connector_id == connector_id)
        sealed = session.scalars(query).all()
    assert len(sealed) == 20 and not any("value-" in s for s in sealed)
