"""JSON ⇄ SOAP envelopes (1.1 and 1.2) from the facts the WSDL importer recorded.

The JSON body of a SOAP-to-REST action is the *content* of the body element (the
importer's schemas say so). Building: document style puts it in ``inputElement``, its
children qualified with that element's namespace (``elementFormDefault="qualified"``,
what .NET, Java and spyne services use); rpc style wraps the parts, unqualified, in an
element named after the operation in ``namespace``. Members follow the order of the body
schema's properties (XSD sequences are ordered); arrays repeat the element; ``null``
becomes ``xsi:nil``. Parsing ignores namespaces and uses the response schema for types
(integers, numbers, booleans) and for arrays of one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree

from tether.runtime.soap._errors import SoapFault, SoapMessageError

__all__ = ["ENVELOPE_NS", "SoapOperation", "build_envelope", "parse_envelope"]

ENVELOPE_NS = {
    "1.1": "http://schemas.xmlsoap.org/soap/envelope/",
    "1.2": "http://www.w3.org/2003/05/soap-envelope",
}
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_blank_text=True)


@dataclass(frozen=True)
class SoapOperation:
    """The ``x-tether-soap`` facts of one operation that the runtime uses."""

    name: str
    version: str = "1.1"
    action: str = ""
    style: str = "document"
    namespace: str | None = None
    input_element: str | None = None
    output_element: str | None = None
    address: str = ""
    mode: str = "soap-to-rest"

    @classmethod
    def from_extensions(
        cls, facts: Mapping[str, Any], root: Mapping[str, Any] | None = None
    ) -> SoapOperation:
        """Read the operation's (and the root's) ``x-tether-soap`` objects."""
        root = root or {}
        version = str(facts.get("soapVersion") or root.get("soapVersion") or "1.1")
        if version not in ENVELOPE_NS:
            raise SoapMessageError(f"unknown SOAP version {version!r} in x-tether-soap; use 1.1 or 1.2")
        return cls(
            name=str(facts.get("operation") or ""),
            version=version,
            action=str(facts.get("soapAction") or ""),
            style=str(facts.get("style") or "document"),
            namespace=facts.get("namespace") or root.get("targetNamespace"),
            input_element=facts.get("inputElement"),
            output_element=facts.get("outputElement"),
            address=str(facts.get("address") or root.get("address") or ""),
            mode=str(facts.get("mode") or root.get("mode") or "soap-to-rest"),
        )

    @property
    def content_type(self) -> str:
        """The request's ``Content-Type`` (SOAP 1.2 carries the action in it)."""
        if self.version == "1.2":
            return "application/soap+xml; charset=utf-8" + (
                f'; action="{self.action}"' if self.action else ""
            )
        return "text/xml; charset=utf-8"

    def headers(self) -> dict[str, str]:
        """The headers a SOAP request needs."""
        headers = {"Content-Type": self.content_type, "Accept": "text/xml, application/soap+xml"}
        if self.version == "1.1":
            headers["SOAPAction"] = f'"{self.action}"'
        return headers


def build_envelope(
    operation: SoapOperation, arguments: Any, schema: Mapping[str, Any] | None = None
) -> bytes:
    """The request envelope for ``arguments`` (the JSON body)."""
    env = ENVELOPE_NS[operation.version]
    envelope = etree.Element(etree.QName(env, "Envelope"), nsmap={"soap": env, "xsi": XSI_NS})
    body = etree.SubElement(envelope, etree.QName(env, "Body"))
    if arguments is not None and not isinstance(arguments, Mapping):
        raise SoapMessageError(
            f"the {operation.name} request must be a JSON object, not {type(arguments).__name__}"
        )
    if operation.style == "rpc":
        wrapper = etree.SubElement(
            body,
            etree.QName(operation.namespace, operation.name) if operation.namespace else operation.name,
            nsmap={"tns": operation.namespace} if operation.namespace else None,
        )
        _fill(wrapper, arguments or {}, schema, None)
    elif operation.input_element:
        qname = etree.QName(operation.input_element)
        element = etree.SubElement(body, qname, nsmap={"tns": qname.namespace} if qname.namespace else None)
        _fill(element, arguments or {}, schema, qname.namespace)
    else:
        _fill(body, arguments or {}, schema, operation.namespace)
    return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")


def _fill(
    parent: etree._Element, value: Any, schema: Mapping[str, Any] | None, namespace: str | None
) -> None:
    if isinstance(value, Mapping):
        properties = (schema or {}).get("properties") or {}
        ordered = [k for k in properties if k in value] + [k for k in value if k not in properties]
        for key in ordered:
            child_schema = properties.get(key)
            items = value[key] if isinstance(value[key], list) else [value[key]]
            item_schema = (child_schema or {}).get("items") if isinstance(value[key], list) else child_schema
            for item in items:
                child = etree.SubElement(parent, etree.QName(namespace, key) if namespace else key)
                _fill(child, item, item_schema, namespace)
    elif value is None:
        parent.set(etree.QName(XSI_NS, "nil"), "true")
    elif isinstance(value, bool):
        parent.text = "true" if value else "false"
    elif isinstance(value, list):
        raise SoapMessageError(f"a JSON array cannot be the content of <{etree.QName(parent).localname}>")
    else:
        parent.text = str(value)


def parse_envelope(
    content: bytes,
    operation: SoapOperation,
    schema: Mapping[str, Any] | None = None,
    *,
    http_status: int = 200,
) -> Any:
    """The JSON content of a response envelope; raises ``SoapFault`` for a fault."""
    try:
        root = etree.fromstring(content, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise SoapMessageError(
            f"the {operation.name} response (HTTP {http_status}) is not XML: {exc}"
        ) from exc
    body = next((child for child in root if etree.QName(child).localname == "Body"), None)
    if etree.QName(root).localname != "Envelope" or body is None:
        raise SoapMessageError(f"the {operation.name} response (HTTP {http_status}) is not a SOAP envelope")
    payload = next(iter(body), None)
    if payload is None:
        return {}
    if etree.QName(payload).localname == "Fault":
        raise _fault(payload, http_status)
    return to_json(payload, schema)


def to_json(element: etree._Element, schema: Mapping[str, Any] | None) -> Any:
    """An element's content as JSON, typed by ``schema`` where it says more than "string"."""
    schema = schema or {}
    if element.get(etree.QName(XSI_NS, "nil")) in ("true", "1"):
        return None
    children = list(element)
    kind = schema.get("type")
    if not children:
        return _scalar(element.text or "", kind) if kind != "object" else {}
    properties = schema.get("properties") or {}
    result: dict[str, Any] = {}
    grown: set[str] = set()  # names repeated without the schema saying "array"
    for child in children:
        name = etree.QName(child).localname
        child_schema = properties.get(name) or {}
        is_array = child_schema.get("type") == "array"
        value = to_json(child, child_schema.get("items") if is_array else child_schema)
        if name not in result:
            result[name] = [value] if is_array else value
        elif is_array or name in grown:
            result[name].append(value)
        else:
            result[name] = [result[name], value]
            grown.add(name)
    return result


def _scalar(text: str, kind: Any) -> Any:
    try:
        if kind == "integer":
            return int(text)
        if kind == "number":
            return float(text)
    except ValueError:
        return text
    if kind == "boolean":
        return text.strip().lower() in ("true", "1")
    return text


def _fault(fault: etree._Element, http_status: int) -> SoapFault:
    def find(*path: str) -> etree._Element | None:
        node: etree._Element | None = fault
        for name in path:
            node = (
                next((c for c in node if etree.QName(c).localname == name), None)
                if node is not None
                else None
            )
        return node

    def text(node: etree._Element | None) -> str | None:
        if node is None:
            return None
        inner = "".join(etree.tostring(c, encoding="unicode") for c in node)
        return ((node.text or "") + inner).strip() or None

    code_text = text(find("faultcode"))
    if code_text is None:  # SOAP 1.2: Code/Value, refined by nested Subcode/Value (1.1's "Client.Refused")
        parts, node = [], find("Code")
        while node is not None:
            value = next((c for c in node if etree.QName(c).localname == "Value"), None)
            if value is not None and value.text:
                parts.append(value.text.strip())
            node = next((c for c in node if etree.QName(c).localname == "Subcode"), None)
        code_text = ".".join(parts) or None
    reason = find("faultstring") if find("faultstring") is not None else find("Reason", "Text")
    actor = find("faultactor") if find("faultactor") is not None else find("Node")
    detail = find("detail") if find("detail") is not None else find("Detail")
    return SoapFault(
        code_text or "Server",
        text(reason) or "",
        actor=text(actor),
        detail=text(detail),
        http_status=http_status,
    )
