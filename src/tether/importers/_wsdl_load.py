"""Reading a WSDL 1.1 document with zeep, offline, and turning its failures into ``TetherError``s.

The bytes are parsed twice: first with lxml alone, which gives line and column for broken XML
and lets us say clearly when a document is not WSDL 1.1 (WSDL 2.0 uses another root element);
then by zeep, which resolves messages, bindings and XSD types. zeep gets a transport that never
touches the network: imports and includes that point at URLs are refused with a message naming
the location, and local files are only read below the folder of the WSDL file given.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from lxml import etree

from tether._extras import require_extra
from tether.definition import MAX_NESTING_DEPTH
from tether.errors import DocumentSyntaxError, InputError, LimitExceeded

__all__ = ["WSDL11_NS", "WSDL20_NS", "LoadedWsdl", "load_wsdl"]

WSDL11_NS = "http://schemas.xmlsoap.org/wsdl/"
WSDL20_NS = "http://www.w3.org/ns/wsdl"
SOAP_ENCODING_NS = "http://schemas.xmlsoap.org/soap/encoding/"
XSD_NS = "http://www.w3.org/2001/XMLSchema"

# zeep imports the SOAP-encoding schema on its own when a type refers to it (rpc/encoded
# services use soapenc:Array). Serving a small local stand-in keeps the import offline.
_SOAP_ENCODING_TYPES = [
    "string",
    "boolean",
    "float",
    "double",
    "decimal",
    "duration",
    "dateTime",
    "time",
    "date",
    "base64Binary",
    "hexBinary",
    "anyURI",
    "QName",
    "integer",
    "long",
    "int",
    "short",
    "byte",
    "nonNegativeInteger",
    "positiveInteger",
    "unsignedLong",
    "unsignedInt",
    "unsignedShort",
    "unsignedByte",
    "normalizedString",
    "token",
]
_SOAP_ENCODING_XSD = (
    f'<xs:schema xmlns:xs="{XSD_NS}" xmlns:tns="{SOAP_ENCODING_NS}" targetNamespace="{SOAP_ENCODING_NS}">'
    '<xs:attribute name="arrayType" type="xs:string"/>'
    '<xs:attribute name="offset" type="xs:string"/>'
    '<xs:complexType name="Array"><xs:sequence>'
    '<xs:any minOccurs="0" maxOccurs="unbounded" processContents="lax"/></xs:sequence>'
    '<xs:attribute ref="tns:arrayType"/><xs:attribute ref="tns:offset"/></xs:complexType>'
    '<xs:complexType name="Struct"><xs:sequence>'
    '<xs:any minOccurs="0" maxOccurs="unbounded" processContents="lax"/></xs:sequence></xs:complexType>'
    + "".join(
        f'<xs:simpleType name="{name}"><xs:restriction base="xs:{name}"/></xs:simpleType>'
        for name in _SOAP_ENCODING_TYPES
    )
    + "</xs:schema>"
).encode()
_XML_NS_XSD = (
    f'<xs:schema xmlns:xs="{XSD_NS}" targetNamespace="http://www.w3.org/XML/1998/namespace">'
    '<xs:attribute name="lang" type="xs:string"/><xs:attribute name="space" type="xs:string"/>'
    '<xs:attribute name="base" type="xs:anyURI"/><xs:attribute name="id" type="xs:ID"/></xs:schema>'
).encode()
_BUILT_IN_LOCATIONS = {
    SOAP_ENCODING_NS: _SOAP_ENCODING_XSD,
    "https://www.w3.org/2001/xml.xsd": _XML_NS_XSD,
    "http://www.w3.org/2001/xml.xsd": _XML_NS_XSD,
}


@dataclass
class LoadedWsdl:
    """A WSDL parsed both ways: ``tree`` is lxml's (for positions, facets and documentation)
    and ``document`` is zeep's ``zeep.wsdl.Document``."""

    name: str
    tree: etree._Element
    document: Any
    # (kind, where, message): parts of the WSDL left out because they could not be read.
    notes: list[tuple[str, str, str]] = field(default_factory=list)


class _RefusedLocation(InputError):
    """An import or include names a location Tether will not read (``missing``: no such file)."""

    missing = False


_EMPTY_XSD = f'<xs:schema xmlns:xs="{XSD_NS}"/>'.encode()


def load_wsdl(source: Path | bytes, *, name: str) -> LoadedWsdl:
    """Parse ``source`` (a file path or the document's bytes) without any network access.

    Raises:
        DocumentSyntaxError: the bytes are not well-formed XML (with line and column).
        InputError: the XML is not a WSDL 1.1 document, it is WSDL 2.0, an import cannot
            be read offline, or zeep rejects the description.
    """
    root_folder: Path | None = None
    if isinstance(source, Path):
        try:
            content = source.read_bytes()
        except OSError as exc:
            raise InputError(f"{source}: cannot read ({exc.strerror or exc})") from exc
        name, root_folder = str(source), source.resolve().parent
    else:
        content = source
    tree = _parse_xml(content, name)
    _check_root(tree, name)
    notes: list[tuple[str, str, str]] = []
    if drop_broken_operations(tree, name, notes):
        content = etree.tostring(tree)
    document = _zeep_document(content, name, root_folder, notes)
    return LoadedWsdl(name=name, tree=tree, document=document, notes=notes)


def _parse_xml(content: bytes, name: str) -> etree._Element:
    # No DTD loading, no entity expansion, no network: WSDLs come from strangers.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        tree = etree.fromstring(content, parser=parser)
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (1, 1)
        reason = exc.msg or "not well-formed XML"
        if line == 1 and not content.lstrip().startswith(b"<"):
            reason = f"not XML (a WSDL document starts with '<'): {reason}"
        raise DocumentSyntaxError(
            reason, file=name, line=line, column=max(column, 1), excerpt=_excerpt(content, line)
        ) from exc
    if tree is None:
        raise DocumentSyntaxError("the document is empty", file=name, line=1, column=1)
    _check_depth(tree, name)
    docinfo = tree.getroottree().docinfo
    # lxml-stubs' DTD lacks iterentities(), which lxml's DTD has.
    entities = docinfo.internalDTD.iterentities() if docinfo.internalDTD is not None else ()  # type: ignore[union-attr]
    if any(True for _ in entities):
        raise InputError(f"{name}: the document declares XML entities, which Tether refuses (XXE risk)")
    return tree


def _check_depth(tree: etree._Element, name: str) -> None:
    """Refuse elements nested past ``MAX_NESTING_DEPTH`` (zeep walks XSD recursively)."""
    depth = 0
    for event, element in etree.iterwalk(tree, events=("start", "end")):
        depth += 1 if event == "start" else -1
        if depth > MAX_NESTING_DEPTH:
            raise LimitExceeded(
                f"{name}:{element.sourceline or 1}: XML elements nested more than {MAX_NESTING_DEPTH} "
                "levels deep; real WSDL and XSD documents nest far less",
                limit="MAX_NESTING_DEPTH",
                value=MAX_NESTING_DEPTH,
                file=name,
            )


def _check_root(tree: etree._Element, name: str) -> None:
    qname = etree.QName(tree)
    where = f"{name}:{tree.sourceline or 1}"
    if qname.namespace == WSDL20_NS:
        raise InputError(
            f"{where}: WSDL 2.0 (<description>) is not supported; Tether imports WSDL 1.1 with SOAP 1.1 "
            "or 1.2 bindings. Ask the service for its WSDL 1.1 description (often ?wsdl instead of ?wsdl2)"
        )
    if qname.namespace != WSDL11_NS or qname.localname != "definitions":
        raise InputError(
            f"{where}: the root element is <{qname.localname}> in namespace {qname.namespace or '(none)'!r}, "
            f"not a WSDL 1.1 <definitions> in {WSDL11_NS!r}; is this the service's ?wsdl document?"
        )


def _zeep_document(
    content: bytes, name: str, root_folder: Path | None, notes: list[tuple[str, str, str]]
) -> Any:
    require_extra("zeep", extra="soap", feature="WSDL import")
    from zeep import exceptions as zeep_errors
    from zeep.settings import Settings
    from zeep.transports import Transport
    from zeep.wsdl import Document

    class OfflineTransport(Transport):
        """zeep's transport, reading nothing but built-in stand-ins and local files."""

        def load(self, url: str) -> bytes:
            try:
                return _load_offline(str(url), root_folder, name)
            except _RefusedLocation as exc:
                if not str(url).lower().endswith(".xsd") or not exc.missing:
                    raise
                # A schema file that is not there: import the rest, and say what is missing.
                missing.append(str(url))
                notes.append(("warning", str(url), f"{exc}; imported without it"))
                return _EMPTY_XSD

    # forbid_external stays off: the transport above is what refuses, with a better message,
    # and it must still serve the built-in SOAP-encoding schema zeep asks for by URL.
    settings = Settings(strict=True, forbid_dtd=True, forbid_entities=True, forbid_external=False)
    missing: list[str] = []
    base = str(Path(name).resolve()) if root_folder is not None else None
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            transport = OfflineTransport()  # type: ignore[no-untyped-call]  # zeep's Transport.__init__ is unannotated
            # zeep annotates ``transport`` as a Transport class but uses (and documents) an instance.
            document = Document(
                io.BytesIO(content),
                transport=transport,  # type: ignore[arg-type]
                base=base,
                settings=settings,
            )
        for warning in caught:
            # zeep skips a binding operation it cannot match, with a warning nobody would see.
            note = ("warning", name, f"{warning.message}; that operation was left out")
            if note not in notes:
                notes.append(note)
        return document
    except InputError:
        raise
    except zeep_errors.XMLParseError as exc:
        line = f":{exc.sourceline}" if exc.sourceline else ""
        raise InputError(f"{name}{line}: invalid WSDL/XSD: {exc.message}") from exc
    except (zeep_errors.Error, NotImplementedError, KeyError, ValueError, AttributeError) as exc:
        detail = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        if missing:
            detail += f" (the schema import {', '.join(map(repr, missing))} could not be read)"
        raise InputError(f"{name}: zeep cannot read this WSDL: {detail}") from exc


def _load_offline(url: str, root_folder: Path | None, name: str) -> bytes:
    if url in _BUILT_IN_LOCATIONS:
        return _BUILT_IN_LOCATIONS[url]
    scheme = urlparse(url).scheme
    if len(scheme) > 1:  # a one-letter "scheme" is a Windows drive
        raise _RefusedLocation(
            f"{name}: the WSDL imports {url!r}; Tether never fetches documents from the network "
            "while importing. Download the imported files next to the WSDL, point the imports at "
            "them with relative paths, and import the WSDL file"
        )
    if root_folder is None:
        raise _RefusedLocation(
            f"{name}: the WSDL imports the file {url!r}; give the WSDL as a file path (not bytes) so "
            "relative imports can be read from its folder"
        )
    target = Path(url).resolve()
    if not target.is_relative_to(root_folder):
        raise _RefusedLocation(f"{name}: the import {url!r} points outside the WSDL's folder {root_folder}")
    try:
        return target.read_bytes()
    except OSError as exc:
        error = _RefusedLocation(f"{name}: cannot read the imported file {url!r} ({exc.strerror})")
        error.missing = True
        raise error from exc


def drop_broken_operations(tree: etree._Element, name: str, notes: list[tuple[str, str, str]]) -> bool:
    """Remove operations whose input/output/fault names an undefined message; True if any was.

    zeep would fail on the whole document (or skip the operation with only a Python warning);
    the rest of the service is usually fine, so the broken operations are left out and named.
    """
    target = tree.get("targetNamespace")
    defined = {m.get("name") for m in tree.findall(f"{{{WSDL11_NS}}}message")}
    imports = tree.findall(f"{{{WSDL11_NS}}}import")
    broken: dict[str, str] = {}
    for port_type in tree.findall(f"{{{WSDL11_NS}}}portType"):
        for operation in port_type.findall(f"{{{WSDL11_NS}}}operation"):
            for part in operation:
                reference = part.get("message") if isinstance(part.tag, str) else None
                if not reference:
                    continue
                prefix, _, local = reference.rpartition(":")
                namespace = part.nsmap.get(prefix or None)
                if namespace == target and local not in defined and not imports:
                    broken[operation.get("name") or "?"] = reference
                    where = f"{name}:{part.sourceline or 1}"
                    notes.append(
                        (
                            "warning",
                            where,
                            f"operation {operation.get('name')!r} of portType {port_type.get('name')!r} "
                            f"names the message {reference!r}, which the WSDL does not define; the "
                            "operation was left out (define the message to import it)",
                        )
                    )
                    port_type.remove(operation)
                    break
    if not broken:
        return False
    for binding in tree.findall(f"{{{WSDL11_NS}}}binding"):
        for operation in binding.findall(f"{{{WSDL11_NS}}}operation"):
            if operation.get("name") in broken:
                binding.remove(operation)
    if not any(pt.findall(f"{{{WSDL11_NS}}}operation") for pt in tree.findall(f"{{{WSDL11_NS}}}portType")):
        messages = ", ".join(repr(m) for m in sorted(set(broken.values())))
        raise InputError(
            f"{name}: every operation names an undefined message ({messages}); define the messages "
            "under <wsdl:message> and import again"
        )
    return True


def _excerpt(content: bytes, line: int) -> str:
    lines = content.decode("utf-8", errors="replace").splitlines()
    if 1 <= line <= len(lines):
        return f"  {line} | {lines[line - 1][:200]}"
    return ""
