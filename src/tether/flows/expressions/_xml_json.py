"""JSON <=> XML as Newtonsoft.Json maps them (``SerializeXmlNode`` / ``DeserializeXmlNode``).

Logic Apps' ``json(xml(...))`` and ``xml(json(...))`` are Newtonsoft's converter over an
``XmlDocument``: attributes are ``@name`` properties, text ``#text`` (an array when an element's text
is split by child elements), CDATA ``#cdata-section``, comments ``#comment``, the declaration
``?xml``, repeated elements arrays in document order of first appearance; ``<t/>`` is null and
``<t></t>`` the empty string. Whitespace-only text between elements is dropped (``XmlDocument``
without ``PreserveWhitespace``), all other text is kept exactly, character references included.

Reading uses expat directly because it reports what an element tree hides (CDATA sections and
self-closed tags). It refuses every DTD entity declaration, so no entity expansion (billion laughs)
and no external entity (XXE) can come in through a flow input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from xml.parsers import expat

from ._values import format_float

__all__ = ["json_to_xml", "xml_to_json"]

_NCNAME = r"[A-Za-z_\u00c0-\uffff][\w.\-\u00b7\u00c0-\uffff]*"
_XML_NAME = re.compile(f"{_NCNAME}(:{_NCNAME})?")
_NOT_XML_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SKIPPED_ROOT_KEYS = ("?xml", "$schema")


@dataclass
class _Element:
    """What expat told us about one element, children in document order as (kind, value) pairs."""

    name: str
    attributes: dict[str, str]
    children: list[tuple[str, Any]] = field(default_factory=list)
    self_closed: bool = False


class _Reader:
    """Builds :class:`_Element` trees from expat's events."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.stack: list[_Element] = []
        self.root: _Element | None = None
        self.in_cdata = False
        self.declaration: dict[str, str] = {}
        parser = expat.ParserCreate()  # no namespace processing: 'x:name' and 'xmlns:x' stay as written
        parser.StartElementHandler = self.start
        parser.EndElementHandler = self.end
        parser.CharacterDataHandler = self.text
        parser.StartCdataSectionHandler = self.start_cdata
        parser.EndCdataSectionHandler = self.end_cdata
        parser.CommentHandler = self.comment
        parser.XmlDeclHandler = self.xml_declaration
        parser.EntityDeclHandler = self.refuse_entity
        self.parser = parser

    def read(self) -> _Element:
        try:
            self.parser.Parse(self.data, True)
        except expat.ExpatError as exc:
            raise ValueError(f"the value isn't valid XML: {exc}") from exc
        assert self.root is not None  # expat fails on a document without a root element
        return self.root

    def start(self, name: str, attributes: dict[str, str]) -> None:
        element = _Element(name, attributes)
        if self.stack:
            self.stack[-1].children.append(("element", element))
        else:
            self.root = element
        self.stack.append(element)

    def end(self, name: str) -> None:
        element = self.stack.pop()
        at = self.parser.CurrentByteIndex
        element.self_closed = not element.children and self.data[at : at + 2] != b"</"

    def text(self, data: str) -> None:
        if not self.stack:
            return
        children = self.stack[-1].children
        kind = "cdata" if self.in_cdata else "text"
        # expat splits text at character references and line ends; one node holds it all.
        if children and children[-1][0] == kind:
            children[-1] = (kind, children[-1][1] + data)
            return
        children.append((kind, data))

    def start_cdata(self) -> None:
        self.in_cdata = True
        if self.stack:
            self.stack[-1].children.append(("cdata", ""))

    def end_cdata(self) -> None:
        self.in_cdata = False
        if self.stack:
            # A text node right after the section must not be merged into it.
            self.stack[-1].children.append(("boundary", None))

    def comment(self, data: str) -> None:
        if self.stack:
            self.stack[-1].children.append(("comment", data))

    def xml_declaration(self, version: str | None, encoding: str | None, standalone: int) -> None:
        for name, value in (("version", version), ("encoding", encoding)):
            if value is not None:
                self.declaration["@" + name] = value
        if standalone != -1:
            self.declaration["@standalone"] = "yes" if standalone else "no"

    def refuse_entity(self, name: str, *args: Any) -> None:
        raise ValueError(f"the XML declares the entity '{name}'; entity declarations are not allowed")


def _nodes(element: _Element) -> list[tuple[str, Any]]:
    """The element's child nodes as Newtonsoft sees them: (JSON name, node) in document order."""
    nodes: list[tuple[str, Any]] = []
    for kind, value in element.children:
        if kind == "element":
            nodes.append((value.name, value))
        elif kind == "text" and value.strip(" \t\r\n"):
            nodes.append(("#text", value))
        elif kind == "cdata":
            nodes.append(("#cdata-section", value))
        elif kind == "comment":
            nodes.append(("#comment", value))
    return nodes


def _convert(element: _Element) -> Any:
    nodes = _nodes(element)
    if not nodes and not element.attributes:
        return None if element.self_closed else ""
    if not element.attributes and len(nodes) == 1 and nodes[0][0] == "#text":
        return nodes[0][1]
    result: dict[str, Any] = {"@" + name: value for name, value in element.attributes.items()}
    grouped: dict[str, list[Any]] = {}
    for name, node in nodes:
        grouped.setdefault(name, []).append(_convert(node) if isinstance(node, _Element) else node)
    for name, values in grouped.items():
        result[name] = values[0] if len(values) == 1 else values
    return result


def xml_to_json(data: bytes) -> dict[str, Any]:
    """Convert an XML document to JSON as Logic Apps' ``json(xml(...))`` does."""
    reader = _Reader(data.strip())
    root = reader.read()
    result: dict[str, Any] = {}
    if reader.declaration:
        result["?xml"] = reader.declaration
    result[root.name] = _convert(root)
    return result


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format_float(value)
    if isinstance(value, dict | list):
        raise ValueError("a text, attribute or CDATA value must be a string, number, boolean or null")
    return "" if value is None else str(value)


def _escape(text: str, *, attribute: bool = False) -> str:
    bad = _NOT_XML_CHAR.search(text)
    if bad:
        raise ValueError(f"the character U+{ord(bad.group()):04X} can't appear in XML")
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#xD;")
    if attribute:
        text = text.replace('"', "&quot;").replace("\n", "&#xA;").replace("\t", "&#x9;")
    return text


def _checked_name(name: str) -> str:
    if not _XML_NAME.fullmatch(name):
        raise ValueError(f"'{name}' is not a valid XML element or attribute name")
    return name


def _write_element(out: list[str], name: str, value: Any) -> None:
    if isinstance(value, list):
        for item in value:
            if isinstance(item, list):
                raise ValueError(f"the property '{name}' holds an array inside an array")
            _write_element(out, name, item)
        return
    out.append("<" + _checked_name(name))
    if value is None:
        out.append(" />")  # .NET's XmlWriter spelling of an empty element
        return
    if not isinstance(value, dict):
        out.append(">" + _escape(_text(value)) + f"</{name}>")
        return
    for key, item in value.items():
        if key.startswith("@"):
            out.append(f' {_checked_name(key[1:])}="{_escape(_text(item), attribute=True)}"')
    content: list[str] = []
    for key, item in value.items():
        items = item if isinstance(item, list) else [item]
        if key.startswith("@"):
            continue
        if key == "#text" or key == "#whitespace" or key == "#significant-whitespace":
            content.extend(_escape(_text(piece)) for piece in items)
        elif key == "#cdata-section":
            for piece in items:
                text = _text(piece)
                if "]]>" in text:
                    raise ValueError("a CDATA section can't contain ']]>'")
                content.append(f"<![CDATA[{text}]]>")
        elif key == "#comment":
            content.extend(f"<!--{_text(piece)}-->" for piece in items)
        else:
            _write_element(content, key, item)
    out.append(">" + "".join(content) + f"</{name}>" if content else " />")


def json_to_xml(value: Any) -> bytes:
    """Convert a JSON object with a single root property into an XML document."""
    if not isinstance(value, dict):
        raise ValueError("only a JSON object with a single root property can be converted to XML")
    roots = {name: child for name, child in value.items() if name not in _SKIPPED_ROOT_KEYS}
    if len(roots) != 1:
        raise ValueError(f"the JSON object must have exactly one root property, not {len(roots)}")
    ((name, child),) = roots.items()
    if isinstance(child, list):
        raise ValueError("the root property of the JSON object can't be an array")
    out: list[str] = []
    declaration = value.get("?xml")
    if isinstance(declaration, dict):
        pairs = "".join(f' {k[1:]}="{_escape(_text(v), attribute=True)}"' for k, v in declaration.items())
        out.append(f"<?xml{pairs}?>")
    try:
        _write_element(out, name, child)
    except ValueError as exc:
        raise ValueError(f"the JSON can't be converted to XML: {exc}") from exc
    return "".join(out).encode("utf-8")
