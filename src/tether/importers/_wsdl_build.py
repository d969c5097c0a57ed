"""One SOAP port of a parsed WSDL ⇒ a Swagger 2.0 definition with ``x-tether-soap`` facts.

Every operation becomes ``POST /{Service}/{Port}/{Operation}``. The path only names the
action: the runtime sends the envelope to the ``address`` recorded in ``x-tether-soap``
(root and operation), with the SOAP action, version, style and element QNames recorded there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import quote, urlsplit

from lxml import etree

from tether.importers._package_build import operation_id, title_words
from tether.importers._wsdl_load import WSDL11_NS, LoadedWsdl
from tether.importers._wsdl_schema import FacetIndex, SchemaBuilder

__all__ = ["Mode", "build_definition"]

Mode = Literal["soap-to-rest", "passthrough"]
Report = Callable[[str, str, str], None]

_CONTENT_TYPES = {"1.1": "text/xml", "1.2": "application/soap+xml"}
# What the runtime answers when the service returns a SOAP fault (zeep.Fault's fields).
_FAULT_SCHEMA = {
    "type": "object",
    "properties": {
        "code": {"type": "string"},
        "message": {"type": "string"},
        "actor": {"type": "string"},
        "detail": {"type": "string"},
    },
}


def build_definition(
    loaded: LoadedWsdl, service: Any, port: Any, *, mode: Mode, report: Report
) -> dict[str, Any]:
    """The Swagger 2.0 document for ``port`` of ``service``."""
    binding = port.binding
    version = "1.2" if type(binding).__name__ == "Soap12Binding" else "1.1"
    address = port.binding_options.get("address") or ""
    raw = _RawBinding(loaded.tree, binding)
    schemas = SchemaBuilder(FacetIndex(loaded.tree), report)
    soap: dict[str, Any] = {
        "service": service.name,
        "port": port.name,
        "binding": binding.name.text,
        "soapVersion": version,
        "address": address,
        "targetNamespace": loaded.tree.get("targetNamespace"),
        "mode": mode,
    }
    definition: dict[str, Any] = {
        "swagger": "2.0",
        "info": {
            "title": title_words(service.name)[:80],
            "description": _service_description(loaded, service.name, port.name),
            "version": "1.0",
        },
    }
    definition.update(_location(address, loaded.name, report))
    media = ["application/json"] if mode == "soap-to-rest" else [_CONTENT_TYPES[version]]
    definition.update({"consumes": media, "produces": media, "paths": {}})
    taken: set[str] = set()
    for name, operation in binding._operations.items():
        where = f"/{service.name}/{port.name}/{name}"
        path = "/" + "/".join(quote(part, safe="") for part in (service.name, port.name, name))
        facts = {
            "operation": name,
            "binding": binding.name.text,
            "soapVersion": version,
            "soapAction": operation.soapaction or "",
            "style": operation.style or "document",
            "use": raw.use(name),
            "namespace": _namespace(operation),
            "inputElement": _qname(operation.input),
            "outputElement": _qname(operation.output),
            "address": address,
        }
        headers = _header_elements(operation.input)
        if headers:
            facts["inputHeaders"] = headers
            report(
                "unsupported",
                where,
                "SOAP headers are not mapped to parameters; set them with a policy "
                "or custom code (their element names are in x-tether-soap.inputHeaders)",
            )
        if facts["use"] == "encoded":
            report(
                "approximation",
                where,
                "rpc/encoded: schemas describe the parts' values; the runtime adds "
                "the SOAP-encoding type attributes",
            )
        definition["paths"][path] = {
            "post": _operation(
                operation,
                name,
                facts,
                operation_id(name, taken=taken),
                raw.documentation(name),
                mode,
                version,
                schemas,
                where,
            )
        }
    definitions = dict(schemas.definitions)
    if mode == "soap-to-rest":
        definitions["SoapFault"] = _FAULT_SCHEMA
    if definitions:
        definition["definitions"] = definitions
    definition["x-tether-soap"] = soap
    return definition


def _operation(
    operation: Any,
    name: str,
    facts: dict[str, Any],
    op_id: str,
    documentation: str,
    mode: Mode,
    version: str,
    schemas: SchemaBuilder,
    where: str,
) -> dict[str, Any]:
    summary = title_words(name)
    if mode == "soap-to-rest":
        request = schemas.body(getattr(operation.input, "body", None), f"{where}/input")
        has_output = operation.output is not None and getattr(operation.output, "body", None) is not None
        response = schemas.body(operation.output.body, f"{where}/output") if has_output else None
        body_description = f"The {name} request as JSON; the runtime builds the SOAP envelope."
        fault: dict[str, Any] = {"description": "SOAP fault", "schema": {"$ref": "#/definitions/SoapFault"}}
    else:
        request, response = {"type": "string"}, {"type": "string"}
        body_description = f"The complete SOAP {version} envelope of the {name} request, as XML."
        fault = {"description": "SOAP fault (the fault envelope as XML)", "schema": {"type": "string"}}
    parameter: dict[str, Any] = {
        "name": "body",
        "in": "body",
        "required": mode == "passthrough" or bool(request.get("required")) or "$ref" in request,
        "x-ms-summary": "Request" if mode == "soap-to-rest" else "SOAP envelope",
        "description": body_description,
        "schema": request,
    }
    success: dict[str, Any] = {"description": f"The {name} response."}
    if response is not None:
        success["schema"] = response
    return {
        "operationId": op_id,
        "summary": summary,
        "description": documentation or f"Calls the SOAP operation {name}.",
        "parameters": [parameter],
        "responses": {"200": success, "500": fault},
        "x-tether-soap": facts,
    }


def _location(address: str, name: str, report: Report) -> dict[str, Any]:
    parts = urlsplit(address)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        report(
            "warning",
            "soap:address",
            f"the port's address {address!r} is not an http(s) URL; the "
            "definition has no host, so the connection must supply one",
        )
        return {}
    location: dict[str, Any] = {"host": parts.netloc, "schemes": [parts.scheme]}
    if parts.path and parts.path != "/":
        location["basePath"] = parts.path
    if parts.query:
        report(
            "approximation",
            "soap:address",
            f"the address's query {parts.query!r} is kept only in x-tether-soap.address ({name})",
        )
    return location


def _qname(message: Any) -> str | None:
    body = getattr(message, "body", None)
    if body is None or body.qname is None or body.qname.localname == "Body":
        return None
    return str(body.qname.text)


def _namespace(operation: Any) -> str | None:
    body = getattr(operation.input, "body", None)
    return body.qname.namespace if body is not None and body.qname is not None else None


def _header_elements(message: Any) -> list[str]:
    header = getattr(message, "header", None)
    if header is None or header.type._element is None:
        return []
    return [str(element.qname.text) for element in header.type._element if getattr(element, "qname", None)]


def _service_description(loaded: LoadedWsdl, service: str, port: str) -> str:
    for node in loaded.tree.iterchildren(f"{{{WSDL11_NS}}}service"):
        if node.get("name") == service:
            text = _documentation(node)
            if text:
                return text[:500]
    return f"The SOAP service {service} (port {port}), imported from a WSDL description."


def _documentation(node: etree._Element) -> str:
    doc = node.find(f"{{{WSDL11_NS}}}documentation")
    # lxml-stubs type itertext() as str | bytes; a tree parsed from bytes yields str.
    return " ".join("".join(doc.itertext()).split()) if doc is not None else ""  # type: ignore[arg-type]


class _RawBinding:
    """What zeep parses but does not keep: soap:body ``use`` and wsdl:documentation."""

    def __init__(self, tree: etree._Element, binding: Any) -> None:
        self._uses: dict[str, str] = {}
        self._docs: dict[str, str] = {}
        local, port_type = binding.name.localname, binding.port_type.name.localname
        for node in tree.iterchildren(f"{{{WSDL11_NS}}}binding"):
            if node.get("name") != local:
                continue
            for op in node.iterchildren(f"{{{WSDL11_NS}}}operation"):
                body = op.find(f"{{{WSDL11_NS}}}input/*[@use]")
                self._uses[op.get("name", "")] = body.get("use", "literal") if body is not None else "literal"
        for node in tree.iterchildren(f"{{{WSDL11_NS}}}portType"):
            if node.get("name") == port_type:
                for op in node.iterchildren(f"{{{WSDL11_NS}}}operation"):
                    self._docs[op.get("name", "")] = _documentation(op)

    def use(self, operation: str) -> str:
        return self._uses.get(operation, "literal")

    def documentation(self, operation: str) -> str:
        return self._docs.get(operation, "")
