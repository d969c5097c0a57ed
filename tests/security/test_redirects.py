"""Credentials never reach a second origin: API key (header and query), Basic, bearer and OAuth,
through invoke, the ``/apim`` pass-through, the connection test and the flow Http action.

Origin A redirects (302 and 307) to origin B on another port; B records what it received. Each
case proves the redirect was followed (B saw the request), reads the credential off what A
received (so it is the one actually sent, the OAuth access token included), and asserts that
nothing of it reached B. A control case redirects within A and sees the credential arrive
again, so the assertions can fail.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest

from tests.flows.engine._support import definition, run
from tests.security._kit import Live, Origins, Seen, connect, hop_package, serve_origins, serve_tether, upload
from tests.security._kit import values_for as credentials_of
from tests.services._connections_kit import oauth_parameters
from tether.flows.engine import EngineServices, VirtualClock

AUTHS = ["header", "query", "basic", "bearer", "oauth"]


@pytest.fixture(scope="module")
def origins() -> Iterator[Origins]:
    yield from serve_origins()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    yield from serve_tether(tmp_path_factory.mktemp("security-home"))


@pytest.fixture(scope="module")
def connections(live: Live, origins: Origins, oauth_server: Any) -> dict[str, tuple[str, str]]:
    """One connector and connection per credential kind: ``auth -> (connector id, connection id)``."""
    host = origins.a.removeprefix("http://")
    made = {}
    for auth in AUTHS:
        settings = oauth_parameters(oauth_server, client="service")["token"]["oAuthSettings"]
        package = hop_package(host, auth, oauth=settings if auth == "oauth" else None)
        connector = upload(live, package, f"hop-{auth}")
        made[auth] = (connector["id"], connect(live, connector["id"], credentials_of(auth)))
    return made


def _credential(auth: str, seen: Seen) -> list[str]:
    """The credential as origin A received it, and the secret part of it (no scheme word)."""
    if auth == "header":
        value = seen.headers.get("x-api-key", "")
    elif auth == "query":
        value = parse_qs(seen.query).get("key", [""])[0]
    else:
        value = seen.headers.get("authorization", "")
    assert len(value) >= 8, f"origin A did not receive the {auth} credential: {seen}"
    return [value, value.split(" ", 1)[-1]]


def _call(live: Live, road: str, ids: tuple[str, str], path: str, method: str) -> int:
    connector, connection = ids
    if road == "invoke":
        kind, status = path.split("/")
        operation = "SameGet" if kind == "same" else ("HopGet" if method == "GET" else "HopPost")
        arguments: dict[str, Any] = {"status": status} | ({"body": {"x": 1}} if method == "POST" else {})
        where = f"/environments/default/connections/{connection}/invoke/{operation}"
        answer = live.api("POST", where, json=arguments)
        assert answer.status_code == 200, answer.text
        return int(answer.json()["status"])
    if road == "apim":
        body = {"json": {"x": 1}} if method == "POST" else {}
        answer = live.http.request(method, f"{live.url}/apim/{connector}/{connection}/{path}", **body)
        return answer.status_code
    where = f"/environments/default/connections/{connection}/test"
    answer = live.api("POST", where, json={"path": f"/{path}"})
    assert answer.status_code == 200, answer.text
    return int(answer.json()["status_code"] or 0)


CASES = [
    pytest.param(road, auth, status, id=f"{road}-{auth}-{status}")
    for road in ("invoke", "apim", "test")
    for auth in AUTHS
    for status in (302, 307)
]


@pytest.mark.parametrize(("road", "auth", "status"), CASES)
def test_credentials_stay_on_their_origin(
    live: Live, origins: Origins, connections: dict[str, tuple[str, str]], road: str, auth: str, status: int
) -> None:
    # The connection test only GETs; invoke and /apim also send a POST through a 307 (body kept).
    method = "POST" if status == 307 and road != "test" else "GET"
    origins.clear()
    assert _call(live, road, connections[auth], f"hop/{status}", method) == 200
    assert len(origins.seen_a) == 1 and len(origins.seen_b) == 1, "the redirect was not followed once"
    landed = origins.seen_b[0]
    assert landed.path == "/land" and landed.method == method
    for secret in _credential(auth, origins.seen_a[0]):
        assert secret not in landed.text(), f"{auth} credential reached origin B through {road}"
    assert not {"authorization", "x-api-key", "cookie", "proxy-authorization"} & set(landed.headers)
    assert "key" not in parse_qs(landed.query)
    if method == "POST":
        assert landed.body == b'{"x":1}' or landed.body.replace(b" ", b"") == b'{"x":1}'


@pytest.mark.parametrize("auth", AUTHS)
def test_control_credentials_follow_a_redirect_within_the_origin(
    live: Live, origins: Origins, connections: dict[str, tuple[str, str]], auth: str
) -> None:
    origins.clear()
    assert _call(live, "invoke", connections[auth], "same/302", "GET") == 200
    assert [s.path for s in origins.seen_a] == ["/api/same/302", "/api/land"] and not origins.seen_b
    first, again = origins.seen_a
    assert _credential(auth, first)[0] == _credential(auth, again)[0]


def _http_action(uri: str, **inputs: Any) -> dict[str, Any]:
    return {"type": "Http", "inputs": {"method": "POST", "uri": uri, "body": {"x": 1}, **inputs}}


@pytest.mark.parametrize(
    "authentication",
    [
        pytest.param({"type": "Basic", "username": "ada", "password": "pa55-flow-secret"}, id="basic"),
        pytest.param({"type": "Raw", "value": "Bearer raw-flow-secret-token"}, id="raw"),
    ],
)
@pytest.mark.parametrize("target", ["hop/302", "hop/307", "accept"])
def test_flow_http_action_keeps_credentials_on_their_origin(
    origins: Origins, authentication: dict[str, str], target: str
) -> None:
    """Redirects and the async pattern's Location on origin B: the Http action's credentials stay on A."""
    origins.clear()
    action = _http_action(f"{origins.a}/api/{target}", authentication=authentication)
    result = asyncio.run(run(definition({"Call": action}), services=EngineServices(clock=VirtualClock())))
    call = result.action("Call")
    assert call.status == "Succeeded", (call.code, call.outputs)
    assert call.outputs["body"] == {"landed": "b"}
    assert len(origins.seen_b) == 1
    secret = authentication.get("password") or authentication["value"].split(" ", 1)[1]
    assert "authorization" in origins.seen_a[0].headers  # sent to A
    assert "authorization" not in origins.seen_b[0].headers
    assert secret not in origins.seen_b[0].text()


def test_token_request_bodies_do_not_cross_origins(origins: Origins) -> None:
    """An OAuth-style form POST through ``Runtime.http_client`` (the token road), 307 to origin B:
    the client authentication and the form's credential fields stay behind; other fields go on."""
    from tether.runtime import NetworkPolicy, Runtime

    form = {"grant_type": "client_credentials", "client_secret": "cl13nt-s3cret-value", "scope": "read"}

    async def post() -> int:
        async with Runtime(network_policy=NetworkPolicy(allow_loopback=True), rate_limit=None) as runtime:
            client = runtime.http_client()
            answer = await client.post(f"{origins.a}/api/hop/307", data=form, auth=("client", "b4sic-s3cret"))
            return answer.status_code

    origins.clear()
    assert asyncio.run(post()) == 200
    sent, landed = origins.seen_a[0], origins.seen_b[0]
    assert b"client_secret=cl13nt-s3cret-value" in sent.body and "authorization" in sent.headers
    assert landed.method == "POST" and b"grant_type=client_credentials" in landed.body
    assert b"cl13nt" not in landed.body and "authorization" not in landed.headers
