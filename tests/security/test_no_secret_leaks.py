"""No secret anywhere it should not be: a real ``tether serve`` with connections of every auth type
(API key, Basic, OAuth authorization code and client credentials against the real django-oauth-toolkit
server) and a flow that uses SecureString parameters, secret trigger headers and connector actions,
run to success and to failure. Then the database file, its WAL, the server's captured output, run
history (``tether flow run-show --json`` and the API) and every API answer are searched for every
secret, as written, base64-encoded and URL-encoded.
"""

from __future__ import annotations

import base64
import io
import json
import os
import stat
import zipfile
from urllib.parse import parse_qs, quote, quote_plus, urlsplit

import httpx
from typer.testing import CliRunner

from tests.security.conftest import ADMIN_PASSWORD, Served
from tests.services._connections_kit import (
    api_key_package,
    oauth_package,
    package,
    register_redirect,
    secure,
    text,
)
from tether.cli import app as cli
from tether.flows.engine import REDACTED

FLOW_PASSWORD = "flow-securestring-8d31c7aa"
TRIGGER_KEY = "trigger-api-key-52e9f0b4"
API_KEY = "connection-api-key-a7c410e2"
BASIC_PASSWORD = "connection-basic-pw-3f9b62"
ENV_SECRET = "secure-env-variable-61c0d7"
KEY_CHECK = "@equals(triggerOutputs()?['headers']?['x-api-key'], parameters('expectedKey'))"
CLOSED_PORT = 9  # discard: nothing listens there, so the failing action fails fast


def _forms(secret: str) -> set[str]:
    raw = secret.encode()
    return {
        secret,
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        quote(secret, safe=""),
        quote_plus(secret),
    }


def _upload(served: Served, pkg, name: str) -> dict:
    files = {
        "apiDefinition": ("d.json", pkg.files["apiDefinition.swagger.json"]),
        "apiProperties": ("p.json", pkg.files["apiProperties.json"]),
    }
    answer = served.call("POST", "/environments/default/connectors", files=files, data={"name": name})
    assert answer.status_code == 201, answer.text
    return answer.json()


def _connect(served: Served, connector: str, parameters: dict) -> dict:
    answer = served.call(
        "POST", "/environments/default/connections", json={"connector": connector, "parameters": parameters}
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def _connector_action(reference: str, path: str, after: str) -> dict:
    return {
        "type": "ApiConnection",
        "runAfter": {after: ["Succeeded"]},
        "inputs": {
            "host": {"connection": {"name": f"@parameters('$connections')['{reference}']['connectionId']"}},
            "method": "get",
            "path": path,
            "retryPolicy": {"type": "none"},
        },
    }


def _flow_definition(echo: str) -> dict:
    granted = {
        "CallEcho": {
            "type": "Http",
            "inputs": {
                "method": "GET",
                "uri": f"{echo}/anything",
                "authentication": {
                    "type": "Basic",
                    "username": "flow-user",
                    "password": "@parameters('apiPassword')",
                },
                "headers": {
                    "X-Token": "@parameters('apiPassword')",
                    "X-Derived": "@{concat('pre-', parameters('apiPassword'), '-post')}",
                },
                "retryPolicy": {"type": "none"},
            },
        },
        "ViaKey": _connector_action("key", "/api/me", "CallEcho"),
        "ViaBasic": _connector_action("basic", "/echo", "ViaKey"),
        "ViaOAuth": _connector_action("oauth", "/api/me", "ViaBasic"),
        "ViaService": _connector_action("service", "/api/me", "ViaOAuth"),
        "Leak": {
            "type": "Compose",
            "runAfter": {"ViaService": ["Succeeded"]},
            "inputs": "@concat('pw=', parameters('apiPassword'), ' key=', "
            "triggerOutputs()?['headers']?['x-api-key'], ' env=', appsetting('Partner.Key'))",
        },
        "Remember": {
            "type": "InitializeVariable",
            "runAfter": {"Leak": ["Succeeded"]},
            "inputs": {
                "variables": [{"name": "kept", "type": "string", "value": "@parameters('apiPassword')"}]
            },
        },
        "Ok": {
            "type": "Response",
            "runAfter": {"Remember": ["Succeeded"]},
            "inputs": {"statusCode": 200, "body": {"ok": True, "user": "@body('ViaOAuth')?['user']"}},
        },
        "MaybeFail": {
            "type": "If",
            "runAfter": {"Ok": ["Succeeded"]},
            "expression": "@equals(triggerBody()?['fail'], true)",
            "actions": {
                "Boom": {
                    "type": "Http",
                    "inputs": {
                        "method": "GET",
                        "uri": f"http://127.0.0.1:{CLOSED_PORT}/x?q=@{{parameters('apiPassword')}}",
                        "headers": {"X-Token": "@variables('kept')"},
                        "retryPolicy": {"type": "none"},
                    },
                }
            },
        },
    }
    return {
        "$schema": "https://schema.management.azure.com/providers/Microsoft.Logic/schemas/2016-06-01/"
        "workflowdefinition.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {
            "apiPassword": {"type": "SecureString"},
            "expectedKey": {"type": "SecureString"},
            "$connections": {"type": "Object", "defaultValue": {}},
        },
        "triggers": {
            "manual": {"type": "Request", "kind": "Http", "inputs": {"method": "POST", "schema": {}}}
        },
        "actions": {
            "Check": {
                "type": "If",
                "expression": KEY_CHECK,
                "actions": granted,
                "else": {"actions": {"Denied": {"type": "Response", "inputs": {"statusCode": 401}}}},
            }
        },
    }


def _stored_oauth_tokens(served: Served) -> list[str]:
    """The OAuth tokens in clear, read with the server's own key file (to search for them)."""
    from tether.secrets import KeyRing
    from tether.store import Connections, Database

    ring = KeyRing(path=served.home / "master.key")
    found: list[str] = []
    with Database(f"sqlite:///{served.home / 'tether.db'}") as db, db.session() as session:
        for connection_id in Connections(session).ids_after("", 100):
            row = Connections(session).get(connection_id)
            if row is not None and row.tokens:
                data = ring.decrypt_json(row.tokens)
                found += [t for t in (data.get("access_token"), data.get("refresh_token")) if t]
    return found


def _wait_run(served: Served, flow: str, run_id: str) -> dict:
    import time

    deadline = time.monotonic() + 60
    while True:
        detail = served.call("GET", f"/environments/default/flows/{flow}/runs/{run_id}").json()
        if detail["run"]["status"] not in ("Waiting", "Running"):
            return detail
        assert time.monotonic() < deadline, f"run {run_id} did not end: {detail['run']}"
        time.sleep(0.1)


def test_no_secret_reaches_storage_logs_history_or_answers(served: Served, echo: str, oauth_server) -> None:
    # Connectors of every auth type; the API ones point at the echo API, OAuth at the real provider.
    _upload(served, api_key_package("header", host=echo), "key")
    basic = package(
        "Basic echo",
        {"username": text("User name"), "password": secure("Password")},
        host=echo,
        security={"basic": {"type": "basic"}},
        paths={"/echo": {"get": {"operationId": "Echo", "responses": {"200": {"description": "ok"}}}}},
    )
    _upload(served, basic, "basic")
    oauth = _upload(served, oauth_package(oauth_server), "oauth")
    register_redirect(oauth_server, oauth["oauth"]["redirect_url"])
    _upload(served, oauth_package(oauth_server, client="service"), "service")

    ids = {
        "key": _connect(served, "key", {"api_key": API_KEY})["id"],
        "basic": _connect(served, "basic", {"username": "ada", "password": BASIC_PASSWORD})["id"],
        "service": _connect(served, "service", {})["id"],
    }
    made = _connect(served, "oauth", {})
    ids["oauth"] = made["id"]
    with httpx.Client(follow_redirects=True, headers={"X-Test-User": "alice"}, timeout=60) as browser:
        page = browser.get(made["consent_url"], auth=("admin", ADMIN_PASSWORD))
    assert page.status_code == 200 and "is connected" in page.text, page.text
    back = next(r for r in [*page.history, page] if urlsplit(str(r.request.url)).path.startswith("/redirect"))
    query = parse_qs(urlsplit(str(back.request.url)).query)
    code, state = query["code"][0], query["state"][0]

    variable = served.call(
        "PUT", "/environments/default/variables/Partner.Key", json={"value": ENV_SECRET, "secure": True}
    )
    assert variable.status_code == 200, variable.text
    created = served.call(
        "POST",
        "/environments/default/flows",
        json={
            "name": "guarded",
            "definition": _flow_definition(echo),
            "connections": ids,
            "parameters": {"apiPassword": FLOW_PASSWORD, "expectedKey": TRIGGER_KEY},
        },
    )
    assert created.status_code == 201, created.text
    assert created.json()["parameters"]["apiPassword"] == REDACTED
    url = served.call("POST", "/environments/default/flows/guarded/callback-url").json()["value"]

    # The flow sees the real header (it answers 200 only for the right key) and succeeds...
    good = httpx.post(url, headers={"x-api-key": TRIGGER_KEY}, json={"fail": False}, timeout=60)
    if good.status_code != 200:  # the run's history says why
        run_id = good.json().get("runId")
        raise AssertionError(_wait_run(served, "guarded", run_id) if run_id else good.text)
    assert good.json() == {"ok": True, "user": "alice"}
    denied = httpx.post(url, headers={"x-api-key": "not-the-key"}, json={}, timeout=60)
    assert denied.status_code == 401
    # ...and a run that fails after answering, with the secret in the failing request's URL.
    failing = httpx.post(url, headers={"x-api-key": TRIGGER_KEY}, json={"fail": True}, timeout=60)
    assert failing.status_code == 200

    runs = served.call("GET", "/environments/default/flows/guarded/runs").json()["items"]
    details = [_wait_run(served, "guarded", r["id"]) for r in runs]
    statuses = sorted(d["run"]["status"] for d in details)
    assert statuses == ["Failed", "Succeeded", "Succeeded"], statuses
    ok_run = next(
        d
        for d in details
        if d["run"]["status"] == "Succeeded" and any(a["name"] == "Leak" for a in d["actions"])
    )
    leak = next(a for a in ok_run["actions"] if a["name"] == "Leak")
    assert leak["outputs"] == f"pw={REDACTED} key={REDACTED} env={REDACTED}"  # masked by value
    assert ok_run["trigger"]["outputs"]["headers"]["x-api-key"] == REDACTED
    echoed = next(a for a in ok_run["actions"] if a["name"] == "CallEcho")["outputs"]["body"]["headers"]
    assert echoed["X-Token"] == REDACTED and echoed["X-Derived"] == f"pre-{REDACTED}-post"
    failed = next(d for d in details if d["run"]["status"] == "Failed")
    boom = next(a for a in failed["actions"] if a["name"] == "Boom")
    assert boom["status"] == "Failed" and boom["error"]

    # Run history through the CLI, as users read it.
    shown_cli = []
    for detail in details:
        result = CliRunner().invoke(
            cli,
            ["flow", "run-show", "guarded", detail["run"]["id"], "--json",
             "--server", served.url, "--token", served.http.headers["Authorization"].split()[1]],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        shown_cli.append(result.output)
    # Downloads and reads of every connector and connection.
    for name in ("key", "basic", "oauth", "service"):
        download = served.http.get(f"{served.url}/api/v1/environments/default/connectors/{name}/download")
        assert download.status_code == 200
        with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
            served.answers.append(archive.read("apiProperties.json").decode())
    for connection_id in ids.values():
        served.call("GET", f"/environments/default/connections/{connection_id}")
    served.call("GET", "/environments/default/flows/guarded")

    secrets = {
        "flow SecureString": FLOW_PASSWORD,
        "trigger x-api-key": TRIGGER_KEY,
        "connection API key": API_KEY,
        "connection Basic password": BASIC_PASSWORD,
        "secure environment variable": ENV_SECRET,
        "OAuth web client secret": oauth_server.web_client_secret,
        "OAuth service client secret": oauth_server.service_client_secret,
        "authorization code": code,
        "OAuth state": state,
        **{f"OAuth token {i}": token for i, token in enumerate(_stored_oauth_tokens(served))},
    }
    assert len(secrets) >= 10  # the OAuth connections hold tokens (else the search proves little)
    served.http.close()
    places = {
        "the database file or its WAL": served.database_bytes().decode("latin-1"),
        "the server's output": served.log(),
        "run history (API)": json.dumps(details),
        "run history (tether flow run-show --json)": "\n".join(shown_cli),
        "an API answer": "\n".join(served.answers),
    }
    leaks = [
        f"{what} ({form!r}) in {where}"
        for what, secret in secrets.items()
        for form in _forms(secret)
        for where, content in places.items()
        if form in content
    ]
    assert not leaks, leaks
    # The access log still tells which endpoints were called, with the query values masked.
    assert "/redirect/" in served.log() and "code=***" in served.log()


def test_files_under_tether_home_are_private(served: Served) -> None:
    served.call("GET", "/environments/default/connections")
    served.call("POST", "/environments/default/connections", json={"connector": "x", "parameters": {}})
    assert stat.S_IMODE(os.stat(served.home).st_mode) == 0o700
    checked = []
    for name in ("tether.db", "tether.db-wal", "tether.db-shm", "master.key"):
        path = served.home / name
        if path.exists():
            checked.append(name)
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, f"{name}: {oct(path.stat().st_mode)}"
    assert {"tether.db", "tether.db-wal", "master.key"} <= set(checked)
