"""No secret reaches a log line: credential headers, credential query values, connection secrets.

Runs a real call with every logger at DEBUG (ours, httpx's and httpcore's) and searches every
captured line for the secrets."""

from __future__ import annotations

import base64
import logging

import httpx
import pytest

from tests.runtime.conftest import LOOPBACK
from tether.definition import compile_api
from tether.runtime import ConnectionContext, Redactor, Runtime

pytestmark = pytest.mark.anyio

SECRETS = ["hunter2-password", "tok-abcdef123", "key-9876543", "sig-zzz111", "connection-secret-xyz"]
SECRETS.append(base64.b64encode(b"user:hunter2-password").decode())  # the Basic credentials on the wire


def spec(port: str) -> dict:
    return {
        "swagger": "2.0",
        "info": {"title": "t", "version": "1"},
        "host": f"127.0.0.1:{port}",
        "schemes": ["http"],
        "paths": {"/anything/{id}": {"get": {
            "operationId": "Get",
            "parameters": [
                {"name": "id", "in": "path", "type": "string", "required": True},
                {"name": "access_token", "in": "query", "type": "string"},
                {"name": "sig", "in": "query", "type": "string"},
                {"name": "q", "in": "query", "type": "string"},
                {"name": "api-key", "in": "header", "type": "string"},
            ],
            "responses": {"200": {"description": "ok"}},
        }}},
    }  # fmt: skip


async def test_no_secret_in_any_log_line(httpbin, caplog) -> None:
    api = compile_api(spec(httpbin.url.rsplit(":", 1)[1]), name="t")
    connection = ConnectionContext(
        connection_id="c1",
        parameters={"password": "connection-secret-xyz", "region": "westeurope"},
        auth=httpx.BasicAuth("user", "hunter2-password"),
    )
    arguments = {
        "id": "connection-secret-xyz",  # a policy or a user may put a secret anywhere
        "access_token": "tok-abcdef123",
        "sig": "sig-zzz111",
        "q": "plain-value",
        "api-key": "key-9876543",
    }
    with caplog.at_level(logging.DEBUG):
        async with Runtime(network_policy=LOOPBACK) as runtime:
            result = await runtime.invoke(api, "Get", arguments, connection=connection)
    assert result.status == 200
    lines = [record.getMessage() for record in caplog.records]
    assert any("GET http://127.0.0.1" in line and "plain-value" in line for line in lines)  # logs stay useful
    assert any(record.name == "httpx" for record in caplog.records)  # third-party loggers covered
    leaked = [(secret, line) for line in lines for secret in SECRETS if secret in line]
    assert leaked == []


def test_redactor_masks_names_values_and_userinfo() -> None:
    redactor = Redactor(["s3cr3t-value"])
    url = redactor.url("https://me:pw@api.test/x?api_key=1&code=2&Signature=3&page=4&q=s3cr3t-value")
    assert url == "https://***@api.test/x?api_key=***&code=2&Signature=***&page=4&q=***"
    headers = redactor.headers(
        {"Authorization": "Bearer x", "Ocp-Apim-Subscription-Key": "k", "Accept": "*/*"}
    )
    assert headers == {"Authorization": "***", "Ocp-Apim-Subscription-Key": "***", "Accept": "*/*"}
