"""One traversal of the definition that feeds every rule needing to see the whole document.

Walking a 1 MB definition in Python costs more than validating it against the OpenAPI
JSON Schema in Rust, so the document is walked once per lint run (lazily, on first use)
and the walk records only what the rules need:

* ``extensions``: every ``x-ms-*`` key in extension position (not a property name, not
  inside a literal such as ``example``), with its value and the object holding it;
* ``schemas``: every object in schema-like position with a ``default``, ``enum`` or a
  ``required`` list: schemas (``definitions``, properties, items, allOf members...),
  Swagger 2.0 parameters, headers and their ``items``;
* ``refs``: every ``$ref`` value (extension values included, literals excluded).

Pointers are not built while walking: a node's location is a linked ``(parent, token)``
chain and ``pointer()`` turns it into an RFC 6901 pointer only for nodes that are
reported, which keeps the per-node cost to a few dictionary lookups.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tether.definition._document import escape_pointer

__all__ = ["NAME_MAPS", "Path", "Walk", "pointer", "walk_of"]

Path = tuple[Any, str] | None
"""``None`` for the document root, else ``(parent path, token)``."""

# Keys whose children are names (of properties, definitions...), never extensions.
NAME_MAPS = frozenset(
    {
        "properties",
        "definitions",
        "securityDefinitions",
        "headers",
        "patternProperties",
        "schemas",
        "securitySchemes",
        "requestBodies",
        "links",
        "callbacks",
        "variables",
        "scopes",
        "encoding",
        "content",
        "mapping",
        "parameters",
    }
)
# Literal data in schema position: never walked for extensions or schemas.
_LITERALS = frozenset({"enum", "default", "example", "examples", "const", "required"})
# Literal data for ``$ref`` purposes (a "$ref" key inside an example is a value).
_REF_LITERALS = frozenset({"example", "examples", "x-ms-test-value", "default", "enum"})
# Keys that make an object worth a schema check.
_SCHEMA_KEYS = ("default", "enum", "required")

_NORMAL, _NAMES, _FREE = 0, 1, 2


@dataclass
class Walk:
    """What one traversal of a definition found."""

    extensions: list[tuple[Path, str, Any, dict[str, Any]]] = field(default_factory=list)
    schemas: list[tuple[Path, dict[str, Any]]] = field(default_factory=list)
    refs: list[tuple[Path, Any]] = field(default_factory=list)


def pointer(path: Path, *tail: str) -> str:
    """The JSON pointer of ``path`` (plus already-escaped ``tail`` tokens)."""
    tokens: list[str] = []
    while path is not None:
        path, token = path
        tokens.append(token)
    tokens.reverse()
    return "".join(f"/{escape_pointer(t)}" for t in tokens) + "".join(f"/{t}" for t in tail)


def walk_of(ctx: Any) -> Walk:
    """The walk of ``ctx.definition``, computed once per lint context."""
    cached = ctx.__dict__.get("_tether_walk")
    if cached is None:
        document = ctx.definition
        cached = ctx.__dict__["_tether_walk"] = walk(document.data, string_keys=document.format == "json")
    return cached  # type: ignore[no-any-return]


def walk(data: Any, *, string_keys: bool = False) -> Walk:
    """Walk ``data`` once; ``string_keys`` promises every key is a str (true of JSON)."""
    found = Walk()
    extensions = found.extensions
    schemas = found.schemas
    refs = found.refs
    stack: list[tuple[Any, Path, int]] = [(data, None, _NORMAL)]
    pop = stack.pop
    push = stack.append
    literals = _LITERALS
    ref_literals = _REF_LITERALS
    name_maps = NAME_MAPS
    while stack:
        node, path, mode = pop()
        if type(node) is list:
            child_mode = _FREE if mode == _FREE else _NORMAL
            for index, value in enumerate(node):
                kind = type(value)
                if kind is dict or kind is list:
                    push((value, (path, str(index)), child_mode))
            continue
        if type(node) is not dict:
            continue
        items: Any = node.items() if string_keys else [(_key(k), v) for k, v in node.items()]
        if mode == _NORMAL:
            if "default" in node or "enum" in node or "required" in node:
                schemas.append((path, node))
            for key, value in items:
                kind = type(value)
                if key[:1] == "x" and key[:2] == "x-":  # one-character slices are cached
                    if key[:5] == "x-ms-":
                        extensions.append(((path, key), key, value, node))
                    if kind is dict or kind is list:
                        push((value, (path, key), _FREE))  # free-form, but may hold $refs
                elif key in literals:
                    continue
                elif kind is dict:
                    push((value, (path, key), _NAMES if key in name_maps else _NORMAL))
                elif kind is list:
                    push((value, (path, key), _NORMAL))
                elif key == "$ref":
                    refs.append(((path, key), value))
        elif mode == _NAMES:
            for key, value in items:
                kind = type(value)
                if kind is dict or kind is list:
                    push((value, (path, key), _NORMAL))
                elif key == "$ref":
                    refs.append(((path, key), value))
        else:
            for key, value in items:
                kind = type(value)
                if kind is dict or kind is list:
                    if key not in ref_literals:
                        push((value, (path, key), _FREE))
                elif key == "$ref":
                    refs.append(((path, key), value))
    return found


def _key(key: Any) -> str:
    return key if isinstance(key, str) else str(key)
