"""OpenAPI 3.x Schema Objects and parameters, rewritten as Swagger 2.0 ones.

Swagger 2.0's schema dialect is a narrow subset: no ``oneOf``/``anyOf``/``not``, no type
arrays, ``nullable`` spelled ``x-nullable`` (Microsoft's extension), non-body parameters
flattened (``type`` beside ``name``) with ``collectionFormat`` instead of ``style``. What
maps exactly is mapped silently; what does not is approximated or dropped, and every such
place is reported with its pointer, because a connector author must know what Power
Platform will not see.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tether.definition import escape_pointer

__all__ = ["SchemaDowngrade"]

Report = Callable[[str, str, str], None]
# Keys a Swagger 2.0 Schema Object may hold (besides x-*).
_SCHEMA_KEYS = frozenset(
    [
        "$ref",
        "format",
        "title",
        "description",
        "default",
        "multipleOf",
        "maximum",
        "exclusiveMaximum",
        "minimum",
        "exclusiveMinimum",
        "maxLength",
        "minLength",
        "pattern",
        "maxItems",
        "minItems",
        "uniqueItems",
        "maxProperties",
        "minProperties",
        "required",
        "enum",
        "additionalProperties",
        "type",
        "items",
        "allOf",
        "properties",
        "discriminator",
        "readOnly",
        "xml",
        "externalDocs",
        "example",
    ]
)
# What a Swagger 2.0 non-body parameter (and header, and primitive items) may take from a schema.
_PRIMITIVE_KEYS = [
    "type",
    "format",
    "items",
    "collectionFormat",
    "default",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "enum",
    "multipleOf",
]
_STYLE_FORMATS = {"form": "csv", "simple": "csv", "spaceDelimited": "ssv", "pipeDelimited": "pipes"}
REF_MAP = {
    "#/components/schemas/": "#/definitions/",
    "#/components/parameters/": "#/parameters/",
    "#/components/responses/": "#/responses/",
}


class SchemaDowngrade:
    """Converts schemas and parameters of one OpenAPI 3.x document, reporting through ``report``."""

    def __init__(self, data: dict[str, Any], report: Report) -> None:
        self.data = data
        self.report = report

    def resolve(self, node: Any) -> Any:
        """``node``, or the local ``$ref`` target it names (followed a few hops)."""
        for _ in range(16):
            if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
                break
            target: Any = self.data
            for raw in node["$ref"].lstrip("#").split("/")[1:]:
                token = raw.replace("~1", "/").replace("~0", "~")
                target = target.get(token) if isinstance(target, dict) else None
            if target is None:
                break
            node = target
        return node

    def schema(self, schema: Any, where: str) -> Any:
        """The Swagger 2.0 form of the Schema Object ``schema`` found at ``where``."""
        if not isinstance(schema, dict):
            return schema
        schema = self._collapse_union(schema, where)
        if isinstance(schema.get("$ref"), str):
            return {"$ref": self.ref(schema["$ref"], where)}
        out: dict[str, Any] = {}
        for key, value in schema.items():
            at = f"{where}/{escape_pointer(key)}"
            if key.startswith("x-"):
                out[key] = self.refs_in(value)
            elif key == "nullable":
                if value is True:
                    out["x-nullable"] = True
            elif key == "type" and isinstance(value, list):
                kinds = [k for k in value if k != "null"]
                if "null" in value:
                    out["x-nullable"] = True
                if kinds:
                    out["type"] = kinds[0]
                if len(kinds) > 1:
                    self.report("approximation", at, f"several types {kinds}; Swagger 2.0 keeps {kinds[0]!r}")
            elif key == "const":
                out["enum"] = [value]
            elif key == "examples" and isinstance(value, list):
                if value:
                    out.setdefault("example", value[0])
                if len(value) > 1:
                    self.report("approximation", at, "several examples; Swagger 2.0 keeps the first")
            elif key in ("exclusiveMinimum", "exclusiveMaximum") and not isinstance(value, bool):
                out["minimum" if key == "exclusiveMinimum" else "maximum"] = value
                out[key] = True
            elif key in ("properties",) and isinstance(value, dict):
                out[key] = {
                    name: self.schema(sub, f"{at}/{escape_pointer(name)}") for name, sub in value.items()
                }
            elif key in ("items", "additionalProperties") and isinstance(value, dict):
                out[key] = self.schema(value, at)
            elif key == "allOf" and isinstance(value, list):
                out[key] = [self.schema(sub, f"{at}/{i}") for i, sub in enumerate(value)]
            elif key == "discriminator" and isinstance(value, dict):
                out[key] = value.get("propertyName")
                if value.get("mapping"):
                    self.report(
                        "approximation", f"{at}/mapping", "discriminator mapping has no Swagger 2.0 form"
                    )
            elif key in _SCHEMA_KEYS:
                out[key] = value
            else:
                self.report("unsupported", at, f"schema keyword {key!r} has no Swagger 2.0 form; dropped")
        return out

    def _collapse_union(self, schema: dict[str, Any], where: str) -> dict[str, Any]:
        """``oneOf``/``anyOf`` folded into the schema: exact for ``[X, null]``, else the first branch."""
        for keyword in ("oneOf", "anyOf"):
            branches = schema.get(keyword)
            if not isinstance(branches, list):
                continue
            rest = {k: v for k, v in schema.items() if k != keyword}
            real = [b for b in branches if not (isinstance(b, dict) and b.get("type") == "null")]
            if len(real) < len(branches):
                rest["nullable"] = True
            if len(real) > 1:
                self.report(
                    "approximation",
                    f"{where}/{keyword}",
                    f"{keyword} of {len(real)} schemas has no Swagger 2.0 form; the first one is used",
                )
            if real and isinstance(real[0], dict):
                first = real[0]
                if "$ref" in first:
                    rest = {"allOf": [first], **rest} if rest else dict(first)
                else:
                    rest = {**first, **rest}
            schema = rest
        if "not" in schema:
            self.report("unsupported", f"{where}/not", "`not` has no Swagger 2.0 form; dropped")
            schema = {k: v for k, v in schema.items() if k != "not"}
        return schema

    def ref(self, ref: str, where: str) -> str:
        for old, new in REF_MAP.items():
            if ref.startswith(old):
                return new + ref[len(old) :]
        return ref

    def refs_in(self, value: Any) -> Any:
        """``value`` (extension data) with its component ``$ref`` strings moved to Swagger 2.0 places."""
        if isinstance(value, dict):
            return {
                k: self.ref(v, "") if k == "$ref" and isinstance(v, str) else self.refs_in(v)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [self.refs_in(v) for v in value]
        return value

    def primitive(
        self, schema: Any, where: str, *, style: str | None, explode: bool | None
    ) -> dict[str, Any]:
        """Flattened ``type``/``format``/``items``... for a non-body parameter or a header."""
        resolved = self.schema(self.resolve(schema), where) if isinstance(schema, dict) else {}
        resolved = self.resolve(resolved) if "$ref" in resolved else resolved
        if "allOf" in resolved and "type" not in resolved:
            merged = [self.resolve(s) for s in resolved["allOf"]]
            resolved = {**{k: v for s in merged if isinstance(s, dict) for k, v in s.items()}, **resolved}
        out: dict[str, Any] = {k: resolved[k] for k in _PRIMITIVE_KEYS if k in resolved}
        out.update({k: v for k, v in resolved.items() if k.startswith("x-")})
        kind = out.get("type")
        if kind not in ("string", "number", "integer", "boolean", "array"):
            if kind is not None or resolved.get("properties"):
                self.report(
                    "approximation", where, f"a {kind or 'schema'} value is sent as a string in Swagger 2.0"
                )
            out["type"] = "string"
            out.pop("items", None)
        if out.get("type") == "array":
            items = out.get("items")
            out["items"] = (
                self.primitive(items, f"{where}/items", style=None, explode=None)
                if items
                else {"type": "string"}
            )
            if style is not None or explode is not None:
                out["collectionFormat"] = self.collection_format(style, explode, where)
        return out

    def collection_format(self, style: str | None, explode: bool | None, where: str) -> str:
        style = style or "form"
        if style == "form" and explode is not False:
            return "multi"
        if style == "deepObject":
            self.report("approximation", where, "deepObject style has no Swagger 2.0 form; sent as csv")
        return _STYLE_FORMATS.get(style, "csv")
