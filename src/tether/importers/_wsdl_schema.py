"""XSD types (as zeep resolved them) to Swagger 2.0 JSON schemas.

The JSON shape follows zeep's own value conventions, so the runtime can hand a request body
straight to zeep to build the envelope: element and attribute names as zeep names them,
``_value_1`` for the text of a simple-content type and for ``xsd:any``. Rules:

- ``minOccurs >= 1`` ⇒ required; ``maxOccurs > 1`` or ``unbounded`` ⇒ an array (with
  ``minItems``/``maxItems`` when the bounds say more than "any number");
- named global complex types ⇒ ``#/definitions/<name>`` (recursive types stay finite);
- built-in simple types ⇒ JSON types and formats (``_BUILT_INS``); restrictions keep their
  facets (enumeration, pattern, lengths, bounds), read from the XSD text because zeep drops them;
- ``xsd:choice`` ⇒ every alternative optional (reported), ``xsd:list`` ⇒ an array,
  ``xsd:union`` ⇒ a string (reported).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lxml import etree

from tether.importers._wsdl_load import XSD_NS

__all__ = ["FacetIndex", "SchemaBuilder"]

Schema = dict[str, Any]
Report = Callable[[str, str, str], None]

_STRING: Schema = {"type": "string"}
# zeep built-in type class name ⇒ JSON schema. Integers carry the XSD value range where it
# is narrower than JSON's, so validation catches what the service would reject.
_BUILT_INS: dict[str, Schema] = {
    "Boolean": {"type": "boolean"},
    "Decimal": {"type": "number"},
    "Float": {"type": "number", "format": "float"},
    "Double": {"type": "number", "format": "double"},
    "Integer": {"type": "integer"},
    "NonPositiveInteger": {"type": "integer", "maximum": 0},
    "NegativeInteger": {"type": "integer", "maximum": -1},
    "Long": {"type": "integer", "format": "int64"},
    "Int": {"type": "integer", "format": "int32"},
    "Short": {"type": "integer", "format": "int32", "minimum": -32768, "maximum": 32767},
    "Byte": {"type": "integer", "format": "int32", "minimum": -128, "maximum": 127},
    "NonNegativeInteger": {"type": "integer", "minimum": 0},
    "PositiveInteger": {"type": "integer", "minimum": 1},
    "UnsignedLong": {"type": "integer", "format": "int64", "minimum": 0},
    "UnsignedInt": {"type": "integer", "format": "int64", "minimum": 0, "maximum": 4294967295},
    "UnsignedShort": {"type": "integer", "format": "int32", "minimum": 0, "maximum": 65535},
    "UnsignedByte": {"type": "integer", "format": "int32", "minimum": 0, "maximum": 255},
    "DateTime": {"type": "string", "format": "date-time"},
    "Date": {"type": "string", "format": "date"},
    "Time": {"type": "string", "format": "time"},
    "Duration": {"type": "string", "format": "duration"},
    "Base64Binary": {"type": "string", "format": "byte"},
    "HexBinary": {"type": "string", "pattern": "^([0-9a-fA-F]{2})*$"},
    "AnyURI": {"type": "string", "format": "uri"},
}
_FACETS = (
    "enumeration",
    "pattern",
    "length",
    "minLength",
    "maxLength",
    "minInclusive",
    "maxInclusive",
    "minExclusive",
    "maxExclusive",
)


class FacetIndex:
    """The facets of every ``xsd:simpleType`` restriction in the WSDL's inline schemas.

    Keyed by the QName zeep gives the resolved type: the type's own name for global types,
    the enclosing element's or attribute's name for anonymous ones. Two different anonymous
    restrictions under one name are ambiguous and left out (the base type still applies).
    """

    def __init__(self, tree: etree._Element) -> None:
        self._facets: dict[str, list[etree._Element]] = {}
        self._bases: dict[str, str] = {}
        ambiguous: set[str] = set()
        for schema in tree.iter(f"{{{XSD_NS}}}schema"):
            namespace = schema.get("targetNamespace")
            for simple in schema.iter(f"{{{XSD_NS}}}simpleType"):
                parent = simple.getparent()
                global_type = parent is schema
                name = (
                    simple.get("name")
                    if global_type
                    else (parent.get("name") if parent is not None else None)
                )
                restriction = simple.find(f"{{{XSD_NS}}}restriction")
                if not name or restriction is None:
                    continue
                key = etree.QName(namespace, name).text
                facets = [child for child in restriction if etree.QName(child).localname in _FACETS]
                if not global_type and key in self._facets and not _same(self._facets[key], facets):
                    ambiguous.add(key)
                self._facets[key] = facets
                base = restriction.get("base")
                if base:
                    prefix, _, local = base.rpartition(":")
                    self._bases[key] = etree.QName(restriction.nsmap.get(prefix or None), local).text
        for key in ambiguous:
            self._facets.pop(key, None)

    def constraints(self, qname: str, json_type: str) -> Schema:
        """JSON-schema keywords for the facets of ``qname`` and of the types it restricts."""
        result: Schema = {}
        seen: set[str] = set()
        while qname in self._facets and qname not in seen:
            seen.add(qname)
            for keyword, value in _facet_keywords(self._facets[qname], json_type).items():
                result.setdefault(keyword, value)  # the most derived type wins
            qname = self._bases.get(qname, "")
        return result


class SchemaBuilder:
    """Builds schemas for zeep elements and types, collecting named types in ``definitions``."""

    def __init__(self, facets: FacetIndex, report: Report) -> None:
        self.definitions: dict[str, Schema] = {}
        self._facets = facets
        self._report = report
        self._names: dict[str, str] = {}  # type QName ⇒ definition name

    def element(self, element: Any, where: str) -> tuple[Schema, bool]:
        """The schema of one element occurrence and whether it is required."""
        schema = self.type(element.type, f"{where}/{element.name}")
        if getattr(element, "nillable", False) and "$ref" not in schema:
            schema = {**schema, "x-nullable": True}
        default = getattr(element, "default", None)
        if default is not None and "type" in schema:
            schema = {**schema, "default": _typed(default, schema["type"])}
        return _occurs(schema, element), _min(element) >= 1

    def body(self, element: Any | None, where: str) -> Schema:
        """The JSON body for a SOAP body element: the schema of its content, as an object."""
        if element is None:
            return {"type": "object", "properties": {}}
        schema = self.type(element.type, where)
        if schema.get("type") == "object" or "$ref" in schema:
            return schema
        # A body part of a simple type: wrap it, so a JSON body is always an object.
        return {"type": "object", "properties": {element.name: schema}, "required": [element.name]}

    def type(self, xsd_type: Any, where: str) -> Schema:
        from zeep.xsd import types as xsd_types

        if isinstance(xsd_type, xsd_types.ComplexType):
            if not getattr(xsd_type, "is_global", False) or xsd_type.qname is None:
                return self._complex(xsd_type, where)
            return self._named(xsd_type, where)
        if isinstance(xsd_type, xsd_types.AnySimpleType):
            return self._simple(xsd_type, where)
        return {}  # xsd:anyType: any value

    def _named(self, xsd_type: Any, where: str) -> Schema:
        key = xsd_type.qname.text
        if key not in self._names:
            name = base = xsd_type.qname.localname
            counter = 1
            while name in self.definitions:
                counter += 1
                name = f"{base}{counter}"
            self._names[key] = name
            self.definitions[name] = {}  # placeholder: recursion refers to it
            self.definitions[name] = self._complex(xsd_type, where)
        return {"$ref": f"#/definitions/{self._names[key]}"}

    def _complex(self, xsd_type: Any, where: str) -> Schema:
        array_type = getattr(getattr(xsd_type, "_array_type", None), "array_type", None)
        if array_type is not None:
            # A SOAP-encoded array (soapenc:Array with wsdl:arrayType): a plain JSON array.
            return {"type": "array", "items": self.type(array_type, f"{where}[]")}
        properties: dict[str, Schema] = {}
        required: list[str] = []
        counter = [0]
        if xsd_type._element is not None:
            self._particle(xsd_type._element, properties, required, False, counter, where)
        for name, attribute in xsd_type.attributes:
            if attribute.name is None:  # xsd:anyAttribute
                continue
            properties[name] = self.type(attribute.type, f"{where}/@{name}")
            if getattr(attribute, "required", False):
                required.append(name)
        schema: Schema = {"type": "object", "properties": properties}
        if required:
            schema["required"] = required
        return schema

    def _particle(
        self,
        particle: Any,
        properties: dict[str, Schema],
        required: list[str],
        optional: bool,
        counter: list[int],
        where: str,
    ) -> None:
        from zeep.xsd.elements import Any as AnyElement
        from zeep.xsd.elements import Choice, Element, Group

        def generated_name() -> str:
            counter[0] += 1
            return f"_value_{counter[0]}"

        if isinstance(particle, AnyElement):
            properties[generated_name()] = _occurs({}, particle)
            return
        if isinstance(particle, Element):
            schema, needed = self.element(particle, where)
            properties[particle.attr_name] = schema
            if needed and not optional:
                required.append(particle.attr_name)
            return
        if getattr(particle, "accepts_multiple", False):
            self._report(
                "approximation",
                where,
                f"a repeated {type(particle).__name__.lower()} is represented as an array of untyped items",
            )
            properties[generated_name()] = {"type": "array", "items": {}}
            return
        children = particle.child if isinstance(particle, Group) else particle
        if isinstance(particle, Choice):
            self._report(
                "approximation",
                where,
                "xsd:choice alternatives are all optional in JSON; send exactly one of them",
            )
            optional = True
        optional = optional or _min(particle) == 0
        for child in children:
            self._particle(child, properties, required, optional, counter, where)

    def _simple(self, xsd_type: Any, where: str) -> Schema:
        from zeep.xsd.types import ListType, UnionType

        if isinstance(xsd_type, ListType):
            return {"type": "array", "items": self._simple(xsd_type.item_type, where)}
        if isinstance(xsd_type, UnionType):
            self._report("approximation", where, "an xsd:union is represented as a string")
            return dict(_STRING)
        schema = dict(_STRING)
        for cls in type(xsd_type).__mro__:
            if cls.__module__ == "zeep.xsd.types.builtins":
                schema = dict(_BUILT_INS.get(cls.__name__, _STRING))
                break
        qname = getattr(xsd_type, "qname", None)
        if qname is not None and qname.namespace != XSD_NS:
            schema.update(self._facets.constraints(qname.text, schema["type"]))
        return schema


def _occurs(schema: Schema, particle: Any) -> Schema:
    maximum = getattr(particle, "max_occurs", 1)
    if maximum != "unbounded" and int(maximum) <= 1:
        return schema
    array: Schema = {"type": "array", "items": schema}
    if _min(particle) > 1:
        array["minItems"] = _min(particle)
    if maximum != "unbounded":
        array["maxItems"] = int(maximum)
    return array


def _min(particle: Any) -> int:
    return int(getattr(particle, "min_occurs", 1) or 0)


def _same(left: list[etree._Element], right: list[etree._Element]) -> bool:
    return [(e.tag, e.get("value")) for e in left] == [(e.tag, e.get("value")) for e in right]


def _facet_keywords(facets: list[etree._Element], json_type: str) -> Schema:
    keywords: Schema = {}
    enum = [
        _typed(f.get("value", ""), json_type) for f in facets if etree.QName(f).localname == "enumeration"
    ]
    if enum:
        keywords["enum"] = enum
    patterns = [f.get("value", "") for f in facets if etree.QName(f).localname == "pattern"]
    if patterns:
        # XSD patterns match the whole value; JSON-schema patterns search, so anchor them.
        keywords["pattern"] = "^(?:" + "|".join(patterns) + ")$"
    for facet in facets:
        kind, value = etree.QName(facet).localname, facet.get("value", "")
        if kind == "length":
            keywords["minLength"] = keywords["maxLength"] = int(value)
        elif kind in ("minLength", "maxLength"):
            keywords[kind] = int(value)
        elif kind in ("minInclusive", "maxInclusive", "minExclusive", "maxExclusive") and json_type in (
            "integer",
            "number",
        ):
            bound = "minimum" if kind.startswith("min") else "maximum"
            keywords[bound] = _typed(value, json_type)
            if kind.endswith("Exclusive"):
                keywords[f"exclusive{bound.capitalize()}"] = True
    return keywords


def _typed(value: str, json_type: str) -> Any:
    """An XSD literal as the JSON value of ``json_type`` (kept as text when it does not parse)."""
    text = value.strip()
    try:
        if json_type == "integer":
            return int(text)
        if json_type == "number":
            number = float(text)
            return (
                int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number
            )
    except ValueError:
        return value
    if json_type == "boolean" and text in ("true", "false", "1", "0"):
        return text in ("true", "1")
    return value
