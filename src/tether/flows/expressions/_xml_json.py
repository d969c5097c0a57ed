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
from functools import cache
from typing import Any
from xml.parsers import expat

from ._values import format_float

__all__ = ["json_to_xml", "xml_to_json"]

_NCNAME = r"[A-Za-z_\u00c0-\uffff][\w.\-\u00b7\u00c0-\uffff]*"


@cache
def _xml_name() -> re.Pattern[str]:
    """The XML name pattern, compiled on first use: its Unicode ranges take ~10 ms to compile."""
    return re.compile(f"{_NCNAME}(:{_NCNAME})?")


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
        self.wide = data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in data[:4]
        self.stack: list[_Element] = []
        self.root: _Element | None = None
        self.in_cdata = False
        self.declaration: dict[str, str] = {}
        self.prolog: list[tuple[str, Any]] = []  # processing instructions and DOCTYPE before the root
        parser = expat.ParserCreate()  # no namespace processing: 'x:name' and 'xmlns:x' stay as written
        parser.StartElementHandler = self.start
        parser.EndElementHandler = self.end
        parser.CharacterDataHandler = self.text
        parser.StartCdataSectionHandler = self.start_cdata
        parser.EndCdataSectionHandler = self.end_cdata
        parser.CommentHandler = self.comment
        parser.XmlDeclHandler = self.xml_declaration
        parser.EntityDeclHandler = self.refuse_entity
        parser.ProcessingInstructionHandler = self.instruction
        parser.StartDoctypeDeclHandler = self.doctype
        self.parser = parser

    def read(self) -> _Element:
        try:
            self.parser.Parse(self.data, True)
        except expat.ExpatError as exc:
            raise ValueError(f"the value isn't valid XML: {exc}") from exc
        assert self.root is not None  # expat fails on a document without a root element
        return self.root

    def start(self, name: str, attributes: dict[str, str]) -> None:
        element = _Element(name, attributes, self_closed=self._self_closed(self.parser.CurrentByteIndex))
        if self.stack:
            self.stack[-1].children.append(("element", element))
        else:
            self.root = element
        self.stack.append(element)

    def end(self, name: str) -> None:
        self.stack.pop()  # expat checked the names match

    def _self_closed(self, at: int) -> bool:
        """Whether the start tag at byte ``at`` ends in ``/>`` (``<t/>`` is null, ``<t></t>`` is "").

        expat reports both alike, so the tag's bytes are read: up to the first ``>`` outside a
        quoted attribute value. Only for 8-bit encodings; a UTF-16 document reads as ``<t></t>``.
        """
        data = self.data
        if self.wide or at < 0 or data[at : at + 1] != b"<":
            return False
        quote = 0
        for index in range(at + 1, len(data)):
            byte = data[index]
            if quote:
                quote = 0 if byte == quote else quote
            elif byte in (0x22, 0x27):  # " and '
                quote = byte
            elif byte == 0x3E:  # >
                return data[index - 1] == 0x2F  # /
        return False

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

    def instruction(self, target: str, data: str) -> None:
        node = ("?" + target, data)
        if self.stack:
            self.stack[-1].children.append(("instruction", node))
        else:
            self.prolog.append(node)

    def doctype(self, name: str, system: str | None, public: str | None, has_internal_subset: int) -> None:
        fields = {"@name": name, "@public": public, "@system": system}
        self.prolog.append(("!DOCTYPE", {key: value for key, value in fields.items() if value is not None}))

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
        elif kind == "instruction":
            nodes.append(value)
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
    result.update(reader.prolog)
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
    if not _xml_name().fullmatch(name):
        raise ValueError(f"'{name}' is not a valid XML element or attribute name")
    return name


def _attribute_name(name: str, prefixes: frozenset[str]) -> str:
    """An attribute's name as written: a prefix no ``xmlns:`` declares is dropped, as Newtonsoft does
    (``{"A": {"@xsi:nil": true}}`` gives ``<A nil="true" />``)."""
    prefix, _, local = name.rpartition(":")
    if prefix and prefix not in prefixes and prefix not in ("xmlns", "xml"):
        return _checked_name(local)
    return _checked_name(name)


def _instruction(name: str, value: Any) -> str:
    return f"<?{_checked_name(name[1:])} {_text(value)}?>"


def _write_element(out: list[str], name: str, value: Any, prefixes: frozenset[str]) -> None:
    if isinstance(value, list):
        for item in value:
            if isinstance(item, list):
                raise ValueError(f"the property '{name}' holds an array inside an array")
            _write_element(out, name, item, prefixes)
        return
    out.append("<" + _checked_name(name))
    if value is None:
        out.append(" />")  # .NET's XmlWriter spelling of an empty element
        return
    if not isinstance(value, dict):
        out.append(">" + _escape(_text(value)) + f"</{name}>")
        return
    declared = {key[len("@xmlns:") :] for key in value if key.startswith("@xmlns:")}
    scope = prefixes | declared
    for key, item in value.items():
        if key.startswith("@"):
            out.append(f' {_attribute_name(key[1:], scope)}="{_escape(_text(item), attribute=True)}"')
    content: list[str] = []
    for key, item in value.items():
        items = item if isinstance(item, list) else [item]
        if key.startswith("@"):
            continue
        if key in ("#text", "#whitespace", "#significant-whitespace"):
            content.extend(_escape(_text(piece)) for piece in items)
        elif key == "#cdata-section":
            for piece in items:
                text = _text(piece)
                if "]]>" in text:
                    raise ValueError("a CDATA section can't contain ']]>'")
                content.append(f"<![CDATA[{text}]]>")
        elif key == "#comment":
            content.extend(f"<!--{_text(piece)}-->" for piece in items)
        elif key.startswith("?"):
            content.extend(_instruction(key, piece) for piece in items)
        else:
            _write_element(content, key, item, scope)
    out.append(">" + "".join(content) + f"</{name}>" if content else " />")


def _doctype(value: Any) -> str:
    fields = value if isinstance(value, dict) else {}
    name = _checked_name(_text(fields.get("@name")))
    public, system = fields.get("@public"), fields.get("@system")
    if public is not None:
        return f'<!DOCTYPE {name} PUBLIC "{_text(public)}" "{_text(system)}">'
    if system is not None:
        return f'<!DOCTYPE {name} SYSTEM "{_text(system)}">'
    return f"<!DOCTYPE {name}>"


def json_to_xml(value: Any) -> bytes:
    """Convert a JSON object with a single root property into an XML document.

    Besides the root element, the object may hold the declaration (``?xml``), processing
    instructions (``?name``) and ``!DOCTYPE``, written before the root in their order.
    """
    if not isinstance(value, dict):
        raise ValueError("only a JSON object with a single root property can be converted to XML")
    roots = {
        name: child
        for name, child in value.items()
        if name not in _SKIPPED_ROOT_KEYS and not name.startswith(("?", "!"))
    }
    if len(roots) != 1:
        raise ValueError(f"the JSON object must have exactly one root property, not {len(roots)}")
    ((root_name, child),) = roots.items()
    if isinstance(child, list):
        raise ValueError("the root property of the JSON object can't be an array")
    out: list[str] = []
    try:
        for name, item in value.items():
            if name == "?xml" and isinstance(item, dict):
                pairs = "".join(f' {k[1:]}="{_escape(_text(v), attribute=True)}"' for k, v in item.items())
                out.append(f"<?xml{pairs}?>")
            elif name == "!DOCTYPE":
                out.append(_doctype(item))
            elif name.startswith("?") and name != "?xml":
                out.append(_instruction(name, item))
            elif name == root_name:
                _write_element(out, name, child, frozenset())
    except ValueError as exc:
        raise ValueError(f"the JSON can't be converted to XML: {exc}") from exc
    return "".join(out).encode("utf-8")
