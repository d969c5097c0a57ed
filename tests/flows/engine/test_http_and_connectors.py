"""The HTTP action against a real local server: retries, Retry-After, async polling, timeouts,
Idempotency-Key, redaction; connector actions through a recording ConnectorCaller."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from tests.flows.engine._support import Backend, RecordingConnector, definition, run
from tether.flows.engine import REDACTED, EngineServices, VirtualClock, history_view


def _http(uri: str, **extra: Any) -> dict[str, Any]:
    inputs = {"method": "POST", "uri": uri, "body": {"x": 1}, **extra.pop("inputs", {})}
    return {"type": "Http", "inputs": inputs, **extra}


def _key() -> str:
    return uuid.uuid4().hex[:8]


def test_http_success_outputs_and_idempotency_key(backend: Backend) -> None:
    document = definition(
        {
            "Call": _http(f"{backend.url}/echo", inputs={"queries": {"q": "1"}}),
            "Use": {"type": "Compose", "inputs": "@body('Call')['body']", "runAfter": {"Call": []}},
        }
    )
    result = asyncio.run(run(document, run_id="run-http-ok"))
    call = result.action("Call")
    assert call.status == "Succeeded" and call.code == "OK"
    assert call.outputs["statusCode"] == 200
    assert call.outputs["body"]["query"] == {"q": "1"}
    assert call.outputs["body"]["idempotency"] == call.idempotency_key
    assert result.action("Use").outputs == {"x": 1}


def test_http_error_status_fails_with_outputs(backend: Backend) -> None:
    result = asyncio.run(run(definition({"Call": _http(f"{backend.url}/status/404")})))
    call = result.action("Call")
    assert (call.status, call.code) == ("Failed", "NotFound")
    assert call.outputs["statusCode"] == 404
    assert call.retries == []


@pytest.mark.parametrize(
    ("policy", "failures", "status", "waits"),
    [
        pytest.param(None, 2, "Succeeded", [2.0, 2.0], id="default-honours-retry-after"),
        pytest.param(
            {"type": "fixed", "count": 2, "interval": "PT1S"}, 5, "Failed", [2.0, 2.0], id="fixed-gives-up"
        ),
        pytest.param({"type": "none"}, 1, "Failed", [], id="none"),
    ],
)
def test_http_retry_after(
    backend: Backend, policy: Any, failures: int, status: str, waits: list[float]
) -> None:
    clock = VirtualClock()
    extra = {"retryPolicy": policy} if policy else {}
    path = f"/flaky/{_key()}/{failures}"
    document = definition({"Call": _http(f"{backend.url}{path}?retry_after=2", inputs=extra)})
    result = asyncio.run(run(document, services=EngineServices(clock=clock)))
    call = result.action("Call")
    assert call.status == status
    assert clock.sleeps == waits
    assert [r["code"] for r in call.retries] == ["ServiceUnavailable"] * len(waits)
    keys = {r.headers["Idempotency-Key"] for r in backend.seen(path)}
    assert keys == {call.idempotency_key}  # every attempt carries the same key


def test_http_exponential_policy_without_retry_after(backend: Backend) -> None:
    clock = VirtualClock()
    policy = {
        "type": "exponential",
        "count": 3,
        "interval": "PT10S",
        "minimumInterval": "PT5S",
        "maximumInterval": "PT25S",
    }
    document = definition({"Call": _http(f"{backend.url}/flaky/{_key()}/3", inputs={"retryPolicy": policy})})
    result = asyncio.run(run(document, services=EngineServices(clock=clock)))
    assert result.action("Call").status == "Succeeded"
    assert len(clock.sleeps) == 3
    assert 8 <= clock.sleeps[0] <= 12 and 16 <= clock.sleeps[1] <= 24 and clock.sleeps[2] == 25


def test_default_policy_is_four_retries_within_bounds(backend: Backend) -> None:
    clock = VirtualClock()
    result = asyncio.run(
        run(definition({"Call": _http(f"{backend.url}/status/500")}), services=EngineServices(clock=clock))
    )
    assert result.action("Call").status == "Failed"
    assert len(clock.sleeps) == 4
    assert all(5 <= s <= 45 for s in clock.sleeps)


def test_connection_failures_are_retried() -> None:
    clock = VirtualClock()
    document = definition(
        {
            "Call": _http(
                "http://127.0.0.1:9/",
                inputs={"retryPolicy": {"type": "fixed", "count": 2, "interval": "PT3S"}},
            )
        }
    )
    result = asyncio.run(run(document, services=EngineServices(clock=clock)))
    call = result.action("Call")
    assert (call.status, call.code) == ("Failed", "ServiceUnreachable")
    assert clock.sleeps == [3.0, 3.0]


def test_async_pattern_polls_location(backend: Backend) -> None:
    clock = VirtualClock()
    path = f"/async/{_key()}/3"
    result = asyncio.run(
        run(definition({"Call": _http(f"{backend.url}{path}")}), services=EngineServices(clock=clock))
    )
    call = result.action("Call")
    assert call.status == "Succeeded"
    assert call.outputs["body"] == {"done": True, "polls": 4}
    assert clock.sleeps == [3.0, 3.0, 3.0]
    assert [r.method for r in backend.seen(path)] == ["POST", "GET", "GET", "GET"]


def test_disable_async_pattern(backend: Backend) -> None:
    document = definition(
        {"Call": {**_http(f"{backend.url}/async/{_key()}/3"), "operationOptions": "DisableAsyncPattern"}}
    )
    call = asyncio.run(run(document)).action("Call")
    assert (call.status, call.outputs["statusCode"]) == ("Succeeded", 202)


def test_async_pattern_bounded_by_timeout(backend: Backend) -> None:
    document = definition(
        {"Call": {**_http(f"{backend.url}/async/{_key()}/100"), "limit": {"timeout": "PT10S"}}}
    )
    call = asyncio.run(run(document)).action("Call")
    assert call.status == "TimedOut"


def test_real_time_timeout_on_a_slow_answer(backend: Backend) -> None:
    document = definition({"Call": {**_http(f"{backend.url}/slow?s=2"), "limit": {"timeout": "PT0.2S"}}})
    call = asyncio.run(run(document)).action("Call")
    assert (call.status, call.code) == ("TimedOut", "ActionTimedOut")


def test_history_redacts_secret_headers_and_secure_data(backend: Backend) -> None:
    document = definition(
        {
            "Call": _http(
                f"{backend.url}/echo", inputs={"headers": {"Authorization": "Bearer s3cret", "X-Ok": "1"}}
            ),
            "Secret": {
                "type": "Compose",
                "inputs": "password-1",
                "runAfter": {"Call": []},
                "runtimeConfiguration": {"secureData": {"properties": ["inputs", "outputs"]}},
            },
            "Uses": {"type": "Compose", "inputs": "@outputs('Secret')", "runAfter": {"Secret": []}},
        }
    )
    result = asyncio.run(run(document))
    call = history_view(result.action("Call"))
    assert call.inputs["headers"]["Authorization"] == REDACTED and call.inputs["headers"]["X-Ok"] == "1"
    secret = history_view(result.action("Secret"))
    assert (secret.inputs, secret.outputs) == (REDACTED, REDACTED)
    assert result.action("Uses").outputs == "password-1"  # later actions still read the real value


def test_basic_authentication(backend: Backend) -> None:
    document = definition(
        {
            "Call": _http(
                f"{backend.url}/echo",
                inputs={"authentication": {"type": "Basic", "username": "u", "password": "p"}},
            )
        }
    )
    asyncio.run(run(document, run_id="basic-auth"))
    sent = [r for r in backend.seen("/echo") if r.headers.get("Authorization", "").startswith("Basic ")]
    assert sent and sent[-1].headers["Authorization"] == "Basic dTpw"


def test_api_connection_through_a_recording_connector() -> None:
    connector = RecordingConnector(answers={"/fail": (429, {"Retry-After": "1"}, {"error": "slow down"})})
    clock = VirtualClock()
    document = definition(
        {
            "Get": {
                "type": "ApiConnection",
                "inputs": {
                    "host": {"connection": {"name": "@parameters('$connections')['sql']['connectionId']"}},
                    "method": "get",
                    "path": "/items/@{triggerBody()}",
                    "queries": {"top": 5},
                },
            },
            "Op": {
                "type": "OpenApiConnection",
                "runAfter": {"Get": []},
                "inputs": {
                    "host": {
                        "connectionName": "shared_sql",
                        "operationId": "GetRow",
                        "apiId": "/providers/x/apis/sql",
                    },
                    "parameters": {"id": "@body('Get')['id']"},
                },
            },
            "Fail": {
                "type": "ApiConnection",
                "runAfter": {"Op": []},
                "inputs": {
                    "host": {"connection": {"referenceName": "sql"}},
                    "method": "post",
                    "path": "/fail",
                    "retryPolicy": {"type": "fixed", "count": 1, "interval": "PT9S"},
                },
            },
        }
    )
    connections = {"sql": {"connectionId": "conn-1"}, "shared_sql": {"connectionId": "conn-2"}}
    result = asyncio.run(
        run(
            document,
            7,
            parameters={"$connections": connections},
            services=EngineServices(clock=clock, connectors=connector),
        )
    )
    assert [c["connection"] for c in connector.calls] == ["conn-1", "conn-2", "conn-1", "conn-1"]
    assert connector.calls[0] | {"key": None} == {
        "connection": "conn-1",
        "method": "GET",
        "path": "/items/7",
        "queries": {"top": 5},
        "body": None,
        "key": None,
    }
    assert connector.calls[1]["method"] == "OPERATION" and connector.calls[1]["path"] == "GetRow"
    assert connector.calls[1]["body"] == {"id": "item-1"}
    assert result.action("Fail").code == "TooManyRequests"
    assert clock.sleeps == [1.0]


def test_connector_action_without_runtime_fails_clearly() -> None:
    document = definition(
        {
            "Get": {
                "type": "ApiConnection",
                "inputs": {"host": {"connection": {"name": "conn-1"}}, "method": "get", "path": "/x"},
            }
        }
    )
    call = asyncio.run(run(document)).action("Get")
    assert call.code == "NoConnectorCaller"
    assert "no connector runtime configured" in call.error["message"]


def test_unmapped_connection_reference() -> None:
    document = definition(
        {
            "Get": {
                "type": "ApiConnection",
                "inputs": {"host": {"connection": {"referenceName": "nope"}}, "method": "get", "path": "/x"},
            }
        }
    )
    call = asyncio.run(run(document)).action("Get")
    assert call.code == "ConnectionNotFound"
