"""SOAP calls against a real spyne service, its WSDL imported with Tether's WSDL importer."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tether.definition import Api, compile_api
from tether.importers.wsdl import import_wsdl
from tether.runtime import ConnectionContext, Exchange
from tether.runtime.soap import SoapFault, build_soap_stage

VERSIONS = [
    pytest.param("soap11_url", "1.1", id="soap-1.1"),
    pytest.param("soap12_url", "1.2", id="soap-1.2"),
]


def imported(url: str, mode: str) -> Api:
    wsdl = httpx.get(url + "?wsdl").content
    result = import_wsdl(wsdl, name="calculator.wsdl", mode=mode)  # type: ignore[arg-type]
    return compile_api(result.package.definition.data, name="calculator")


def call(api: Api, operation_id: str, content: bytes, *, faults: str = "raise") -> httpx.Response:
    operation = api.operation(operation_id)
    server = api.servers[0].url.rstrip("/")
    request = httpx.Request(
        "POST", server + operation.path, content=content, headers={"content-type": "application/json"}
    )
    exchange = Exchange(api=api, operation=operation, connection=ConnectionContext(), request=request)
    stage = build_soap_stage(api, faults=faults)  # type: ignore[arg-type]

    async def run() -> httpx.Response:
        async with httpx.AsyncClient() as client:

            async def transport(exchange: Exchange) -> httpx.Response:
                return await client.send(exchange.request)

            response = await stage(exchange, transport)
            await response.aread()
            return response

    return asyncio.run(run())


def operation_named(api: Api, name: str) -> str:
    return next(
        op.operation_id for op in api.operations if op.extensions["x-tether-soap"]["operation"] == name
    )


@pytest.mark.parametrize(("server", "version"), VERSIONS)
def test_soap_to_rest_round_trip(request: pytest.FixtureRequest, server: str, version: str) -> None:
    api = imported(request.getfixturevalue(server), "soap-to-rest")
    assert api.extensions["x-tether-soap"]["soapVersion"] == version
    response = call(api, operation_named(api, "add"), b'{"a": 2, "b": 40}')
    assert response.status_code == 200
    assert response.json() == {"addResult": 42}
    response = call(api, operation_named(api, "say_hello"), b'{"name": "Ada", "times": 2}')
    assert response.json() == {"say_helloResult": {"string": ["Hello, Ada", "Hello, Ada"]}}


@pytest.mark.parametrize(("server", "version"), VERSIONS)
def test_soap_fault_becomes_an_error(request: pytest.FixtureRequest, server: str, version: str) -> None:
    api = imported(request.getfixturevalue(server), "soap-to-rest")
    with pytest.raises(SoapFault) as caught:
        call(api, operation_named(api, "refuse"), b'{"reason": "no"}')
    assert caught.value.fault_code.endswith({"1.1": "Client.Refused", "1.2": "Sender.Refused"}[version])
    assert caught.value.fault_string == "refused: no"
    assert caught.value.code == "soap-fault"


def test_soap_fault_as_the_declared_500_response(soap11_url: str) -> None:
    api = imported(soap11_url, "soap-to-rest")
    response = call(api, operation_named(api, "refuse"), b'{"reason": "no"}', faults="response")
    assert response.status_code == 500
    assert response.json()["message"] == "refused: no"


@pytest.mark.parametrize(("server", "version"), VERSIONS)
def test_passthrough_sends_the_envelope_with_the_right_headers(
    request: pytest.FixtureRequest, server: str, version: str
) -> None:
    api = imported(request.getfixturevalue(server), "passthrough")
    env = {
        "1.1": "http://schemas.xmlsoap.org/soap/envelope/",
        "1.2": "http://www.w3.org/2003/05/soap-envelope",
    }[version]
    envelope = (
        f'<soap:Envelope xmlns:soap="{env}" xmlns:c="urn:tether:test:calculator">'
        "<soap:Body><c:add><c:a>1</c:a><c:b>2</c:b></c:add></soap:Body></soap:Envelope>"
    ).encode()
    response = call(api, operation_named(api, "add"), envelope)
    assert response.status_code == 200
    assert b"<tns:addResult>3</tns:addResult>" in response.content
    sent = response.request
    expected_type = "text/xml" if version == "1.1" else "application/soap+xml"
    assert sent.headers["content-type"].startswith(expected_type)
    assert ("soapaction" in sent.headers) == (version == "1.1")


def test_passthrough_fault_is_an_error(soap11_url: str) -> None:
    api = imported(soap11_url, "passthrough")
    envelope = (
        b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
        b'xmlns:c="urn:tether:test:calculator">'
        b"<soap:Body><c:refuse><c:reason>x</c:reason></c:refuse></soap:Body></soap:Envelope>"
    )
    with pytest.raises(SoapFault, match="refused: x"):
        call(api, operation_named(api, "refuse"), envelope)
