"""Reading a WSDL 1.1 document with zeep, offline, and turning its failures into ``TetherError``s.

The bytes are parsed twice: first with lxml alone, which gives line and column for broken XML
and lets us say clearly when a document is not WSDL 1.1 (WSDL 2.0 uses another root element);
then by zeep, which resolves messages, bindings and XSD types. zeep gets a transport that never
touches the network: imports and includes that point at URLs are refused with a message naming
the location, and local files are only read below the folder of the WSDL file given.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from lxml import etree

from tether._extras import require_extra
from tether.errors import DocumentSyntaxError, InputError

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


class _RefusedLocation(InputError):
    """An import or include names a location Tether will not read."""


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
    return LoadedWsdl(name=name, tree=tree, document=_zeep_document(content, name, root_folder))


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
    docinfo = tree.getroottree().docinfo
    if docinfo.internalDTD is not None and any(True for _ in docinfo.internalDTD.iterentities()):
        raise InputError(f"{name}: the document declares XML entities, which Tether refuses (XXE risk)")
    return tree


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


def _zeep_document(content: bytes, name: str, root_folder: Path | None) -> Any:
    require_extra("zeep", extra="soap", feature="WSDL import")
    from zeep import exceptions as zeep_errors
    from zeep.settings import Settings
    from zeep.transports import Transport
    from zeep.wsdl import Document

    class OfflineTransport(Transport):  # type: ignore[misc]
        """zeep's transport, reading nothing but built-in stand-ins and local files."""

        def load(self, url: str) -> bytes:
            return _load_offline(str(url), root_folder, name)

    # forbid_external stays off: the transport above is what refuses, with a better message,
    # and it must still serve the built-in SOAP-encoding schema zeep asks for by URL.
    settings = Settings(strict=True, forbid_dtd=True, forbid_entities=True, forbid_external=False)
    location: Any = str(Path(name).resolve()) if root_folder is not None else io.BytesIO(content)
    try:
        return Document(location, transport=OfflineTransport(), settings=settings)
    except InputError:
        raise
    except zeep_errors.XMLParseError as exc:
        line = f":{exc.sourceline}" if exc.sourceline else ""
        raise InputError(f"{name}{line}: invalid WSDL/XSD: {exc.message}") from exc
    except (zeep_errors.Error, NotImplementedError, KeyError, ValueError, AttributeError) as exc:
        detail = getattr(exc, "message", None) or str(exc) or type(exc).__name__
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
        raise _RefusedLocation(f"{name}: cannot read the imported file {url!r} ({exc.strerror})") from exc


def _excerpt(content: bytes, line: int) -> str:
    lines = content.decode("utf-8", errors="replace").splitlines()
    if 1 <= line <= len(lines):
        return f"  {line} | {lines[line - 1][:200]}"
    return ""
