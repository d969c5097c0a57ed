"""Postman URLs to a server, a Swagger path template and query entries.

A Postman URL is text with ``{{variable}}`` placeholders and ``:name`` path variables,
often starting with a ``{{baseUrl}}``-style variable. Swagger 2.0 splits the same thing
into one ``scheme://host/basePath`` for the whole API and a ``/path/{param}`` per
operation. The *server* computed here keeps unresolved placeholders (``{{APIURL}}``,
``https://{{tenant}}.example.com``) so the caller can turn them into connection
parameters; path placeholders become path parameters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from tether.importers._postman_collection import description_of, key_values

__all__ = ["PathParam", "PostmanUrl", "parse_url", "placeholder_names", "safe_name"]

PLACEHOLDER = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")
# ``{{tenant_{{env}}}}``: a variable whose name is built from another one.
_NESTED = re.compile(r"\{\{([^{}]*)\{\{\s*([^{}]+?)\s*\}\}([^{}]*)\}\}")
# ``{id}``: an OpenAPI-style path parameter written in a Postman URL.
_SINGLE_BRACE = re.compile(r"(?<!\{)\{\s*([A-Za-z_][^{}]*?)\s*\}(?!\})")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_LEADING_VARIABLE = re.compile(r"^\{\{\s*([^{}]+?)\s*\}\}")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class PathParam:
    name: str
    example: str | None
    description: str


@dataclass
class PostmanUrl:
    """One request URL, split the Swagger way.

    ``server`` is ``scheme://host[:port]`` or a template holding ``{{name}}`` placeholders;
    ``base_path`` comes from a base-URL variable's value (``https://x.io/v2`` ⇒ ``/v2``).
    """

    server: str
    base_path: str
    path: str
    path_params: list[PathParam]
    query: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)


def placeholder_names(text: str) -> list[str]:
    """The ``{{name}}`` placeholders in ``text``, in order."""
    return PLACEHOLDER.findall(text)


def safe_name(name: str) -> str:
    """A name usable in a Swagger path template and as a parameter name."""
    return _UNSAFE.sub("_", name).strip("_") or "value"


def parse_url(value: Any, variables: dict[str, str]) -> PostmanUrl:
    """Split a Postman ``url`` (string or object) using the collection's ``variables``."""
    url = value if isinstance(value, dict) else {}
    raw = value if isinstance(value, str) else url.get("raw") if isinstance(url.get("raw"), str) else None
    if raw is None:
        raw = _raw_from_parts(url)
    raw = raw.strip().split("#", 1)[0]
    notes: list[str] = []
    raw = _resolve_nested(raw, variables, notes)
    base, _, query_text = raw.partition("?")
    server, base_path, rest = _split_server(base, variables, notes)
    path, params = _path(rest, variables, url.get("variable"))
    query = key_values(url.get("query")) if isinstance(url.get("query"), list) else _parse_query(query_text)
    return PostmanUrl(server, base_path, path, params, query, notes)


def _resolve_nested(text: str, variables: dict[str, str], notes: list[str]) -> str:
    """Resolve ``{{a_{{b}}}}`` to ``{{a_x}}`` when ``b`` is known; else flatten it, with a note."""
    for _ in range(5):  # bounded: nesting is rarely more than two deep

        def inner(match: re.Match[str]) -> str:
            head, name, tail = match.groups()
            value = variables.get(name)
            if value is not None and "{{" not in value:
                return "{{" + head + value + tail + "}}"
            flat = head + name + tail
            notes.append(
                f"nested variable {match.group(0)} cannot be resolved ({{{{{name}}}}} has no value in the "
                f"collection); it became the parameter {safe_name(flat)!r}"
            )
            return "{{" + flat + "}}"

        resolved = _NESTED.sub(inner, text)
        if resolved == text:
            return text
        text = resolved
    return text


def _raw_from_parts(url: dict[str, Any]) -> str:
    host = url.get("host")
    host = ".".join(str(h) for h in host) if isinstance(host, list) else str(host or "")
    path = url.get("path")
    path = "/".join(str(p) for p in path) if isinstance(path, list) else str(path or "")
    protocol = url.get("protocol")
    port = f":{url['port']}" if url.get("port") else ""
    prefix = f"{protocol}://" if isinstance(protocol, str) and protocol else ""
    return f"{prefix}{host}{port}/{path.lstrip('/')}"


def _split_server(base: str, variables: dict[str, str], notes: list[str]) -> tuple[str, str, str]:
    """``(server, base_path, path_rest)`` for the part of the URL before ``?``."""
    leading = _LEADING_VARIABLE.match(base)
    if leading:
        name, rest = leading.group(1), base[leading.end() :]
        value = variables.get(name, "").strip()
        if not value or not (_SCHEME.match(value) or "." in value.split("/", 1)[0]):
            return f"{{{{{name}}}}}", "", rest
        # A base-URL variable with a value: its path part is the API's base path.
        notes.append(f"{{{{{name}}}}} is the base URL {value}")
        scheme, authority, path = _split_absolute(_expand(value, variables), variables, notes)
        return f"{scheme}://{authority}", path.rstrip("/"), rest
    scheme, authority, path = _split_absolute(base, variables, notes)
    return f"{scheme}://{authority}", "", path


def _split_absolute(
    url: str, variables: dict[str, str], notes: list[str] | None = None
) -> tuple[str, str, str]:
    match = _SCHEME.match(url)
    if match:
        scheme, rest = match.group(1).lower(), url[match.end() :]
    else:
        scheme, rest = "http", url
        if notes is not None:
            notes.append("the URL has no scheme; Postman sends it over http")
    authority, slash, path = rest.partition("/")
    return scheme, _expand(authority, variables), slash + path


def _expand(text: str, variables: dict[str, str]) -> str:
    """Replace placeholders whose value is known; unknown ones stay for the caller."""
    for _ in range(5):  # variables may refer to variables; bounded against cycles
        expanded = PLACEHOLDER.sub(lambda m: variables.get(m.group(1), m.group(0)), text)
        if expanded == text:
            break
        text = expanded
    return text


def _path(rest: str, variables: dict[str, str], declared: Any) -> tuple[str, list[PathParam]]:
    meta = {e["key"]: e for e in key_values(declared)}
    params: dict[str, PathParam] = {}
    segments: list[str] = []
    for segment in rest.split("/"):
        if not segment:
            continue
        if segment.startswith(":") and len(segment) > 1:
            name = safe_name(segment[1:])
            entry = meta.get(segment[1:], {})
            example = entry.get("value")
            example = example if isinstance(example, str) and example and "{{" not in example else None
            params.setdefault(name, PathParam(name, example, description_of(entry.get("description"))))
            segments.append(f"{{{name}}}")
            continue

        def to_param(match: re.Match[str]) -> str:
            name = safe_name(match.group(1))
            known = variables.get(match.group(1))
            example = known if known and "{{" not in known else None
            params.setdefault(name, PathParam(name, example, ""))
            return f"{{{name}}}"

        def declared_param(match: re.Match[str]) -> str:
            # "{id}": the author wrote an OpenAPI path parameter; url.variable may describe it.
            raw_name = match.group(1)
            name = safe_name(raw_name)
            entry = meta.get(raw_name, {})
            example = entry.get("value")
            example = example if isinstance(example, str) and example and "{{" not in example else None
            params.setdefault(name, PathParam(name, example, description_of(entry.get("description"))))
            return f"{{{name}}}"

        segment = PLACEHOLDER.sub(to_param, segment)
        segments.append(_SINGLE_BRACE.sub(declared_param, segment) if "{{" not in segment else segment)
    path = "/" + "/".join(segments)
    if rest.endswith("/") and segments:
        path += "/"
    return path, list(params.values())


def _parse_query(text: str) -> list[dict[str, Any]]:
    entries = []
    for part in text.split("&") if text else []:
        key, has_value, value = part.partition("=")
        if key:
            entries.append({"key": unquote(key), "value": unquote(value) if has_value else None})
    return entries
