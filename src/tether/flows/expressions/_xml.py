"""XML for ``xml()``, ``json(xml(...))`` and ``xpath()``: safe parsing and JSON <=> XML mapping.

The mapping is Newtonsoft.Json's (``SerializeXmlNode`` / ``DeserializeXmlNode``), which Logic Apps
uses: attributes become ``@name`` properties, mixed text ``#text``, repeated elements arrays and the
declaration ``?xml``. Parsing never resolves entities or fetches DTDs (no XXE through a flow input).
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from ._values import format_float, is_number

__all__ = ["json_to_xml", "parse_xml", "xml_to_json", "xpath"]

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_comments=False)
_DECLARATION = re.compile(rb"^\s*<\?xml\s+([^?]*)\?>")


def parse_xml(data: bytes) -> Any:
    """Parse an XML document; raises ``ValueError`` with the parser's reason when it is not XML."""
    try:
        return etree.fromstring(data.strip(), _PARSER)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"the value isn't valid XML: {exc}") from exc


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format_float(value)
    return "" if value is None else str(value)


def _fill(element: Any, value: Any) -> None:
    if isinstance(value, dict):
        for name, child in value.items():
            if name.startswith("@"):
                element.set(name[1:], _text(child))
            elif name == "#text":
                element.text = (element.text or "") + _text(child)
            elif name == "#cdata-section":
                element.text = etree.CDATA(_text(child))
            else:
                for item in child if isinstance(child, list) else [child]:
                    _fill(etree.SubElement(element, name), item)
    elif isinstance(value, list):
        raise ValueError("an array can't be converted to XML except as the value of a property")
    else:
        element.text = _text(value) if value is not None else None


def json_to_xml(value: Any) -> bytes:
    """Convert a JSON object with a single root property into an XML document."""
    if not isinstance(value, dict):
        raise ValueError("only a JSON object with a single root property can be converted to XML")
    roots = {name: child for name, child in value.items() if name not in ("?xml", "$schema")}
    if len(roots) != 1:
        raise ValueError(f"the JSON object must have exactly one root property, not {len(roots)}")
    ((name, child),) = roots.items()
    if isinstance(child, list):
        raise ValueError("the root property of the JSON object can't be an array")
    try:
        root = etree.Element(name)
        _fill(root, child)
    except ValueError as exc:
        raise ValueError(f"the JSON can't be converted to XML: {exc}") from exc
    return bytes(etree.tostring(root, encoding="utf-8"))


def _name(element: Any) -> str:
    local = etree.QName(element).localname
    return f"{element.prefix}:{local}" if element.prefix else local


def _convert(element: Any) -> Any:
    attributes: dict[str, Any] = {}
    parent = element.getparent()
    inherited = parent.nsmap if parent is not None else {}
    for prefix, uri in element.nsmap.items():
        if inherited.get(prefix) != uri:
            attributes["@xmlns" + (f":{prefix}" if prefix else "")] = uri
    for key, value in element.attrib.items():
        qname = etree.QName(key)
        attributes["@" + qname.localname] = value
    children = [child for child in element if isinstance(child.tag, str)]
    text = (element.text or "").strip()
    if not attributes and not children:
        return element.text if element.text is not None else None
    result: dict[str, Any] = dict(attributes)
    if text:
        result["#text"] = text
    for child in children:
        key, converted = _name(child), _convert(child)
        if key in result:
            existing = result[key]
            result[key] = [*existing, converted] if isinstance(existing, list) else [existing, converted]
        else:
            result[key] = converted
    return result


def xml_to_json(data: bytes) -> dict[str, Any]:
    """Convert an XML document to JSON as Logic Apps' ``json(xml(...))`` does."""
    root = parse_xml(data)
    result: dict[str, Any] = {}
    declaration = _DECLARATION.match(data)
    if declaration:
        pairs = re.findall(rb"([\w:-]+)\s*=\s*[\"']([^\"']*)[\"']", declaration.group(1))
        result["?xml"] = {f"@{k.decode()}": v.decode() for k, v in pairs}
    result[_name(root)] = _convert(root)
    return result


def xpath(data: bytes, expression: str) -> Any:
    """Evaluate an XPath 1.0 expression (the .NET XPath engine's language).

    Returns a number, string or boolean for scalar XPath results, else the list of matches: element
    nodes as serialized XML ``bytes`` (the caller wraps them in content envelopes), text and
    attribute nodes as their string values.
    """
    root = parse_xml(data)
    try:
        result = root.getroottree().xpath(expression)
    except etree.XPathError as exc:
        raise ValueError(f"the XPath expression '{expression}' isn't valid: {exc}") from exc
    if isinstance(result, bool | str) or is_number(result):
        return str(result) if isinstance(result, str) else result
    matches: list[Any] = []
    for node in result:
        if isinstance(node, str):
            matches.append(str(node))
        else:
            matches.append(bytes(etree.tostring(node, encoding="utf-8", with_tail=False)))
    return matches
