"""Authentication and authorization at the API edge (rules live in the services layer)."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text

from tests._paths import EXAMPLE_CONNECTOR
from tests.api.conftest import ADMIN_PASSWORD, Api
from tether.definition import load_package

PROBLEM = "application/problem+json"


def _zip() -> dict[str, tuple[str, bytes, str]]:
    return {"package": ("p.zip", load_package(EXAMPLE_CONNECTOR).to_zip(), "application/zip")}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        pytest.param("GET", "/api/v1/me", id="me"),
        pytest.param("GET", "/api/v1/environments", id="environments"),
        pytest.param("GET", "/api/v1/environments/default/connectors", id="connectors"),
        pytest.param("POST", "/api/v1/environments/default/connectors", id="create-connector"),
        pytest.param("GET", "/api/v1/tokens", id="tokens"),
        pytest.param("POST", "/api/v1/tokens", id="create-token"),
        pytest.param("POST", "/api/v1/users", id="create-user"),
    ],
)
def test_unauthenticated_calls_get_401_problem(api: Api, method: str, path: str) -> None:
    answer = api.client.request(method, path)
    assert answer.status_code == 401
    assert answer.headers["content-type"] == PROBLEM
    assert answer.headers["www-authenticate"].startswith("Bearer")
    problem = answer.json()
    assert problem["status"] == 401
    assert problem["type"].endswith("/unauthenticated")
    assert "tether login" in problem["detail"] or "password" in problem["detail"]


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("Bearer tth_not-a-real-token", id="unknown-token"),
        pytest.param("Bearer ", id="empty"),
        pytest.param("Basic YWRtaW46d3Jvbmc=", id="password-where-token-needed"),
    ],
)
def test_bad_credentials_get_401(api: Api, header: str) -> None:
    answer = api.client.get("/api/v1/environments", headers={"Authorization": header})
    assert answer.status_code == 401


def test_wrong_password_cannot_mint_a_token(api: Api) -> None:
    answer = api.client.post("/api/v1/tokens", json={"name": "x"}, auth=("admin", "wrong password"))
    assert answer.status_code == 401
    assert answer.json()["detail"] == "Wrong username or password."


def test_revoked_token_stops_working(api: Api, admin_headers: dict[str, str]) -> None:
    token = api.token_for("admin", ADMIN_PASSWORD)
    headers = api.as_user(token)
    assert api.client.get("/api/v1/me", headers=headers).status_code == 200
    token_id = next(
        t["id"]
        for t in api.client.get("/api/v1/tokens", headers=headers).json()["items"]
        if token.startswith(t["prefix"])
    )
    assert api.client.delete(f"/api/v1/tokens/{token_id}", headers=admin_headers).status_code == 204
    assert api.client.get("/api/v1/me", headers=headers).status_code == 401


def _user(api: Api, admin_headers: dict[str, str], name: str) -> dict[str, str]:
    created = api.client.post(
        "/api/v1/users", json={"username": name, "password": "pass-" + name * 2}, headers=admin_headers
    )
    assert created.status_code == 201, created.text
    return api.as_user(api.token_for(name, "pass-" + name * 2))


def test_environment_you_are_not_member_of_is_404(api: Api, admin_headers: dict[str, str]) -> None:
    outsider = _user(api, admin_headers, "outsider")
    created = api.client.post("/api/v1/environments/default/connectors", files=_zip(), headers=admin_headers)
    connector_id = created.json()["id"]
    for path in (
        "/api/v1/environments/default",
        "/api/v1/environments/default/connectors",
        f"/api/v1/environments/default/connectors/{connector_id}",
        f"/api/v1/environments/default/connectors/{connector_id}/download",
        "/api/v1/environments/no-such-env",
    ):
        answer = api.client.get(path, headers=outsider)
        assert answer.status_code == 404, path
        assert answer.headers["content-type"] == PROBLEM
    assert api.client.get("/api/v1/environments", headers=outsider).json()["items"] == []
    # Not found and not a member read the same, so environment names cannot be probed.
    mine = api.client.get("/api/v1/environments/default", headers=outsider).json()["detail"]
    missing = api.client.get("/api/v1/environments/nope", headers=outsider).json()["detail"]
    assert mine.replace("default", "X") == missing.replace("nope", "X")


def test_roles_user_reads_maker_writes(api: Api, admin_headers: dict[str, str]) -> None:
    reader = _user(api, admin_headers, "reader")
    maker = _user(api, admin_headers, "maker")
    for name, role in (("reader", "user"), ("maker", "maker")):
        answer = api.client.put(
            "/api/v1/environments/default/members",
            json={"username": name, "role": role},
            headers=admin_headers,
        )
        assert answer.status_code == 200, answer.text
    assert (
        api.client.post("/api/v1/environments/default/connectors", files=_zip(), headers=reader).status_code
        == 403
    )
    created = api.client.post("/api/v1/environments/default/connectors", files=_zip(), headers=maker)
    assert created.status_code == 201
    # Unshared, a maker's connector is theirs (and the admins'); shared with everyone, every member sees it.
    assert api.client.get("/api/v1/environments/default/connectors", headers=reader).json()["items"] == []
    connector_id = created.json()["id"]
    shared = api.client.put(
        f"/api/v1/environments/default/connectors/{connector_id}/access",
        json={"grantee": "everyone", "permission": "use"},
        headers=maker,
    )
    assert shared.status_code == 200, shared.text
    listed = api.client.get("/api/v1/environments/default/connectors", headers=reader).json()["items"]
    assert [c["id"] for c in listed] == [connector_id]
    # Only environment admins manage members.
    answer = api.client.put(
        "/api/v1/environments/default/members", json={"username": "reader", "role": "admin"}, headers=maker
    )
    assert answer.status_code == 403


def test_token_is_returned_once_and_never_logged_or_stored(
    api: Api, caplog: pytest.LogCaptureFixture, admin_headers: dict[str, str]
) -> None:
    caplog.set_level(logging.DEBUG)
    created = api.client.post("/api/v1/tokens", json={"name": "ci"}, auth=("admin", ADMIN_PASSWORD))
    token = created.json()["token"]
    headers = api.as_user(token)
    answers = [
        api.client.get("/api/v1/tokens", headers=headers),
        api.client.get("/api/v1/me", headers=headers),
        api.client.get("/api/v1/environments", headers=headers),
    ]
    for answer in answers:
        assert answer.status_code == 200
        assert token not in answer.text
        assert token[len("tth_") :] not in answer.text
    assert token not in caplog.text
    assert ADMIN_PASSWORD not in caplog.text
    with api.db.session() as session:
        for table in ("personal_access_tokens", "audit_events", "users"):
            rows = session.execute(text(f"SELECT * FROM {table}")).all()
            dump = repr(rows)
            assert token not in dump and token[len("tth_") :] not in dump, table
            assert ADMIN_PASSWORD not in dump, table


# Routes that answer without a bearer token, each for a reason.
PUBLIC_ROUTES = {
    "/api/v1/health",  # load balancers
    "/api/v1/openapi.json",  # the API's own description
    "/api/v1/flows/{flow_id}/triggers/{trigger}/invoke",  # signed callback URL (sig=HMAC)
    "/api/v1/flows/{flow_id}/triggers/{trigger}/events",  # signed webhook callback URL (sig=HMAC)
    "/redirect",  # OAuth providers send the browser back here: signed, single-use state
    "/redirect/{connector_id}",
    "/sso/login",  # single sign-on starts here: a redirect to the OIDC provider
    "/sso/callback",  # the provider sends the browser back: signed state + browser-bound cookie
    "/api/v1/gateway/register",  # an agent's first call: a one-time registration token in the body
}


def test_every_api_route_requires_authentication(api: Api) -> None:
    """Walk the API's own OpenAPI document: every operation not listed above answers 401 without a token."""
    import re

    spec = api.client.get("/api/v1/openapi.json").json()
    checked = 0
    for template, operations in spec["paths"].items():
        if template in PUBLIC_ROUTES:
            continue
        path = re.sub(r"\{[^}]+\}", "x", template)
        for method in operations:
            answer = api.client.request(method.upper(), path)
            assert answer.status_code == 401, (method, template, answer.status_code)
            checked += 1
    assert checked > 40
