"""The SOAP stage: operations carrying ``x-tether-soap`` speak SOAP on the wire.

* **soap-to-rest**: the JSON request body becomes the envelope (``_envelope``), sent with
  the version's ``Content-Type`` and ``SOAPAction``; the answer's envelope becomes JSON
  (``200``, ``application/json``).
* **passthrough**: the request body already is the envelope (XML); it is sent as is with
  the right headers, and the answer comes back as XML.

A SOAP fault raises :class:`SoapFault` (code, string, actor, detail); with
``faults="response"`` it comes back instead as the importer's declared ``500`` answer (the
``SoapFault`` JSON object in soap-to-rest mode, the fault envelope in passthrough mode).
The endpoint is the request's base URL (the definition's host and base path come from the
port's address, and connections, gateways and policies may move them) plus the address's
query; without a usable base URL, the recorded address itself.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from tether.definition import Api, Operation
from tether.runtime._pipeline import Exchange, Send
from tether.runtime.soap._envelope import SoapOperation, build_envelope, parse_envelope
from tether.runtime.soap._errors import SoapFault, SoapMessageError

__all__ = ["SOAP_EXTENSION", "SoapStage", "build_soap_stage"]

SOAP_EXTENSION = "x-tether-soap"
FaultHandling = Literal["raise", "response"]


class SoapStage:
    """Turns calls of SOAP operations into SOAP requests; other operations pass through."""

    def __init__(self, operations: Mapping[str, SoapOperation], *, faults: FaultHandling = "raise") -> None:
        self.operations = dict(operations)
        self.faults = faults

    async def __call__(self, exchange: Exchange, send: Send) -> httpx.Response:
        soap = self.operations.get(exchange.operation.operation_id)
        if soap is None:
            return await send(exchange)
        original = exchange.request
        if soap.mode == "passthrough":
            envelope = _raw_envelope(original.content)
        else:
            envelope = build_envelope(
                soap, _json(original.content, soap), _request_schema(exchange.operation)
            )
        headers = httpx.Headers(original.headers)
        for name in ("content-length", "content-type", "soapaction", "accept", "transfer-encoding"):
            headers.pop(name, None)
        headers.update(soap.headers())
        request = httpx.Request(
            "POST",
            _endpoint(original.url, exchange.operation, soap),
            headers=headers,
            content=envelope,
            extensions=original.extensions,
        )
        response = await send(exchange.replace(request=request))
        await response.aread()
        return self._answer(response, soap, exchange.operation)

    def _answer(self, response: httpx.Response, soap: SoapOperation, operation: Operation) -> httpx.Response:
        if soap.mode == "passthrough":
            if self.faults == "raise" and response.status_code >= 400 and b"Fault" in response.content:
                parse_envelope(
                    response.content, soap, http_status=response.status_code
                )  # raises the SoapFault
            return response
        try:
            data = parse_envelope(
                response.content, soap, _response_schema(operation), http_status=response.status_code
            )
        except SoapFault as fault:
            if self.faults == "raise":
                raise
            body = {k: v for k, v in fault.detail.items() if k != "http_status"}
            return httpx.Response(500, json=body, request=response.request)
        except SoapMessageError:
            if response.status_code >= 400:
                return response  # an HTTP error without an envelope (a proxy's 502...): keep it
            raise
        return httpx.Response(response.status_code, json=data, request=response.request)


def build_soap_stage(api: Api, *, faults: FaultHandling = "raise") -> SoapStage:
    """A stage for the operations of ``api`` that carry ``x-tether-soap`` (read once, here)."""
    root = api.extensions.get(SOAP_EXTENSION)
    root = root if isinstance(root, Mapping) else {}
    operations = {
        operation.operation_id: SoapOperation.from_extensions(operation.extensions[SOAP_EXTENSION], root)
        for operation in api.operations
        if isinstance(operation.extensions.get(SOAP_EXTENSION), Mapping)
    }
    return SoapStage(operations, faults=faults)


def _json(content: bytes, soap: SoapOperation) -> Any:
    if not content.strip():
        return {}
    try:
        return json.loads(content)
    except ValueError as exc:
        raise SoapMessageError(
            f"the {soap.name} request body must be JSON in soap-to-rest mode: {exc}"
        ) from exc


def _raw_envelope(content: bytes) -> bytes:
    """The caller's envelope; a JSON string (an XML string sent as a JSON body) is unwrapped."""
    stripped = content.strip()
    if stripped.startswith(b'"'):
        try:
            value = json.loads(stripped)
        except ValueError:
            return content
        if isinstance(value, str):
            return value.encode("utf-8")
    return content


def _endpoint(url: httpx.URL, operation: Operation, soap: SoapOperation) -> str:
    address = urlsplit(soap.address) if soap.address else None
    raw_path = url.raw_path.decode("ascii").split("?", 1)[0]
    wanted = len(operation.path.strip("/").split("/")) if operation.path.strip("/") else 0
    segments = raw_path.split("/")
    base_path = "/".join(segments[: len(segments) - wanted]) if wanted < len(segments) else ""
    if url.host:
        query = f"?{address.query}" if address is not None and address.query else ""
        return f"{url.scheme}://{url.netloc.decode('ascii')}{base_path or '/'}{query}"
    if soap.address:
        return soap.address
    raise SoapMessageError(f"the {soap.name} operation has no endpoint: give the connection a base URL")


def _request_schema(operation: Operation) -> Mapping[str, Any] | None:
    return operation.request_body.schema if operation.request_body is not None else None


def _response_schema(operation: Operation) -> Mapping[str, Any] | None:
    response = operation.responses.get("200")
    return response.schema if response is not None else None
