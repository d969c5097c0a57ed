"""XML for ``xml()``, ``json(xml(...))`` and ``xpath()``: safe parsing and JSON <=> XML mapping.

The JSON mapping is Newtonsoft.Json's, in :mod:`._xml_json`. Parsing never resolves entities or
fetches DTDs (no XXE through a flow input).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from ._values import is_number
from ._xml_json import json_to_xml as _json_to_xml
from ._xml_json import xml_to_json

__all__ = ["json_to_xml", "parse_xml", "xml_to_json", "xpath"]


@cache
def _lxml() -> tuple[Any, Any]:
    """lxml's ``etree`` and the safe parser, loaded by the first XML function a flow calls (lxml
    costs ~60 ms of CPU to import, which every ``tether expression eval`` would pay otherwise)."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_comments=False)
    return etree, parser


def parse_xml(data: bytes) -> Any:
    """Parse an XML document; raises ``ValueError`` with the parser's reason when it is not XML."""
    etree, parser = _lxml()
    try:
        return etree.fromstring(data.strip(), parser)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"the value isn't valid XML: {exc}") from exc


def json_to_xml(value: Any) -> bytes:
    """Convert a JSON object with a single root property into an XML document (see
    :mod:`._xml_json`), checked by parsing it back (an undeclared namespace prefix fails here)."""
    data = _json_to_xml(value)
    try:
        parse_xml(data)
    except ValueError as exc:
        raise ValueError(f"the JSON can't be converted to XML: {exc}") from exc
    return data


def xpath(data: bytes, expression: str) -> Any:
    """Evaluate an XPath 1.0 expression (the .NET XPath engine's language).

    Returns a number, string or boolean for scalar XPath results, else the list of matches: element
    nodes as serialized XML ``bytes`` (the caller wraps them in content envelopes), text and
    attribute nodes as their string values.
    """
    root = parse_xml(data)
    etree, _ = _lxml()
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
