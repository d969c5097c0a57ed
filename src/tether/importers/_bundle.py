"""Reading an OpenAPI source and pulling ``$ref``\\ s to sibling files into it.

A connector package holds one definition file, but real APIs are often split over a folder
(``$ref: "schemas/pet.yaml#/Pet"``). Each referenced file value is copied once into the
document's own components (``components/schemas``, ``definitions``, ``parameters``...) under
a unique name and every reference to it is rewritten, so the result is self-contained. Only
files inside the source's folder are read, and nothing is ever fetched: a reference leaving
the folder or naming a URL is an ``InputError`` that says where it is written.

Three readings follow the tools people check their specs with. A bare name in Swagger 2.0
(``$ref: "Pet"``) means ``#/definitions/Pet`` (or ``#/parameters/…``, ``#/responses/…`` by
where it is written), as swagger-parser reads it. A reference inside an ``x-`` extension
(every Azure REST spec's ``x-ms-examples`` names example files that are not shipped) is
not part of the API: if it cannot be read it stays as written, with a warning. And with
``fix``, a dangling internal reference becomes an empty schema, with a warning naming it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from tether.definition import UnresolvedReference, escape_pointer, read_document
from tether.errors import InputError
from tether.importers._validate import is_missing, resolve, spec_version

__all__ = ["read_openapi"]

# Keys holding literal data, where a "$ref" key is a value and not a reference.
_LITERAL_KEYS = frozenset({"example", "examples", "default", "enum", "const", "x-ms-test-value"})
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:|^//")
_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
_BARE_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_Report = list[tuple[str, str, str]]


def read_openapi(source: Path, *, fix: bool = False, report: _Report | None = None) -> dict[str, Any]:
    """The document at ``source``, checked to be OpenAPI 2.0/3.0/3.1, with sibling refs bundled.

    ``report`` receives ``(kind, pointer, message)`` for references read leniently (bare
    names, unreadable references inside ``x-`` extensions, and with ``fix`` dangling ones).

    Raises:
        DocumentSyntaxError: the file is not readable JSON or YAML (names file, line, column).
        InputError: not an OpenAPI document, an unsupported version, or a ``$ref`` that
            cannot be resolved, leaves the folder or names a URL.
    """
    if not source.is_file():
        raise InputError(f"{source}: no such file; give the path of an OpenAPI document (JSON or YAML)")
    data = _check_version(read_document(source).data, source)
    _Bundler(data, source, fix=fix, report=report if report is not None else []).run()
    return data


def _check_version(data: Any, source: Path) -> dict[str, Any]:
    """``data`` itself once it is known to be a Swagger 2.0 or OpenAPI 3.0/3.1 document."""
    if not isinstance(data, dict) or not ({"swagger", "openapi", "swaggerVersion"} & set(data)):
        raise InputError(
            f"{source}: not an OpenAPI document (no top-level `swagger` or `openapi` key); "
            "give a Swagger 2.0 or OpenAPI 3.0/3.1 definition"
        )
    if spec_version(data) is None:
        declared = data.get("openapi", data.get("swagger", data.get("swaggerVersion")))
        raise InputError(
            f"{source}: OpenAPI version {declared!r} is not supported; Tether reads Swagger 2.0 and "
            "OpenAPI 3.0/3.1 (convert Swagger 1.x with swagger2openapi or the Swagger editor first)"
        )
    return data


class _Bundler:
    """Rewrites the references of one document, reading each sibling file at most once."""

    def __init__(self, data: dict[str, Any], source: Path, *, fix: bool, report: _Report) -> None:
        self.data = data
        self.fix, self.report = fix, report
        self.source = source.resolve()
        self.root = self.source.parent
        self.version = spec_version(data)
        self.files: dict[Path, Any] = {self.source: data}
        # (file, fragment) -> the local ref that now stands for it.
        self.placed: dict[tuple[Path, str], str] = {}

    def run(self) -> None:
        self._walk(self.data, self.source, "", [])

    def _walk(self, node: Any, file: Path, pointer: str, tokens: list[str]) -> None:
        stack: list[tuple[Any, str, list[str]]] = [(node, pointer, tokens)]
        while stack:
            value, where, path = stack.pop()
            if isinstance(value, dict):
                ref = value.get("$ref")
                if isinstance(ref, str):
                    self._replace(value, ref, file, where, path)
                for key, child in value.items():
                    literal = key in _LITERAL_KEYS and not (key == "default" and path[-1:] == ["responses"])
                    if not literal and isinstance(child, (dict, list)):
                        stack.append((child, f"{where}/{escape_pointer(str(key))}", [*path, str(key)]))
            elif isinstance(value, list):
                for index, child in enumerate(value):
                    if isinstance(child, (dict, list)):
                        stack.append((child, f"{where}/{index}", [*path, str(index)]))

    def _replace(self, value: dict[str, Any], ref: str, file: Path, where: str, path: list[str]) -> None:
        """Rewrite the reference object ``value``, or keep or blank it when it cannot be read."""
        try:
            value["$ref"] = self._rewrite(ref, file, where, path)
        except InputError as exc:
            if any(token.startswith("x-") for token in path):
                reason = exc.reason if isinstance(exc, UnresolvedReference) else str(exc)
                self.report.append(
                    ("warning", f"{where}/$ref", f"{reason}; kept as written (inside an extension)")
                )
            elif isinstance(exc, UnresolvedReference) and self.fix and not ref.split("#", 1)[0]:
                value.clear()
                self.report.append(
                    ("fix", where, f"dangling $ref '{ref}' ({exc.reason}) replaced by an empty schema")
                )
            else:
                raise

    def _rewrite(self, ref: str, file: Path, where: str, path: list[str]) -> str:
        label = self._label(file)
        if self.version == "2.0" and _BARE_NAME.match(ref) and not (file.parent / ref).is_file():
            local = self._bare_name(ref, path)
            if local is not None:
                self.report.append(("info", f"{where}/$ref", f"bare name '{ref}' read as '{local}'"))
                return local
        if _URL.match(ref):
            raise InputError(
                f"{label}: $ref '{ref}' at {where or '/'} names a URL; Tether does not fetch remote "
                "documents: download it beside the definition and refer to it by relative path",
                detail={"ref": ref, "pointer": where, "document": label},
            )
        file_part, _, fragment = ref.partition("#")
        fragment = unquote(fragment)
        target_file = (file.parent / unquote(file_part)).resolve() if file_part else file
        if file_part and not target_file.is_relative_to(self.root):
            raise InputError(
                f"{label}: $ref '{ref}' at {where or '/'} points outside the folder of {self.source.name}; "
                "only files inside that folder are bundled",
                detail={"ref": ref, "pointer": where, "document": label},
            )
        content = self._content(target_file, ref, label, where)
        target = resolve(content, fragment)
        if is_missing(target) or (fragment and not fragment.startswith("/")):
            raise UnresolvedReference(
                ref,
                pointer=where,
                document=label,
                reason=f"nothing at '#{fragment}' in {self._label(target_file)}",
            )
        if target_file == self.source:
            return "#" + fragment
        return self._place(target_file, fragment, target, path)

    def _bare_name(self, name: str, path: list[str]) -> str | None:
        """``#/definitions/Pet`` for ``Pet`` (by where it is written), when the document has it."""
        container = self._container(path) or ["definitions"]
        holder = resolve(self.data, "".join("/" + escape_pointer(t) for t in [*container, name]))
        if is_missing(holder):
            return None
        return "#" + "".join("/" + escape_pointer(t) for t in [*container, name])

    def _place(self, file: Path, fragment: str, target: Any, path: list[str]) -> str:
        key = (file, fragment)
        if key in self.placed:
            return self.placed[key]
        container = self._container(path)
        if container is None:
            # A path item cannot live in components in 3.0 (or anywhere in 2.0): inline it.
            return self._inline(file, fragment, target, path)
        holder: Any = self.data
        for token in container:
            holder = holder.setdefault(token, {})
        base = fragment.rstrip("/").rsplit("/", 1)[-1] if fragment.strip("/") else file.stem
        name = _NAME_CHARS.sub("_", base.replace("~1", "/").replace("~0", "~")) or "Schema"
        unique, counter = name, 1
        while unique in holder:
            counter += 1
            unique = f"{name}_{counter}"
        local = "#" + "".join("/" + escape_pointer(t) for t in [*container, unique])
        self.placed[key] = local
        copy = _deep_copy(target)
        holder[unique] = copy
        # References inside the pulled value are relative to the file it came from.
        self._walk(copy, file, local[1:], [*container, unique])
        return local

    def _inline(self, file: Path, fragment: str, target: Any, path: list[str]) -> str:
        raise InputError(
            f"{self._label(self.source)}: the path item at /{'/'.join(path)} is a $ref to "
            f"{self._label(file)}#{fragment}; path items in other files cannot be bundled, paste it in"
        )

    def _container(self, path: list[str]) -> list[str] | None:
        """Where a value referenced from ``path`` (tokens of the $ref object) belongs."""
        v3 = self.version != "2.0"
        parent = path[-2] if len(path) >= 2 else ""
        last = path[-1] if path else ""
        if len(path) == 2 and path[0] == "paths":
            return None
        if len(path) == 3 and path[0] == "components":
            return ["components", path[1]]
        if len(path) == 2 and path[0] in ("definitions", "parameters", "responses"):
            return [path[0]]
        if parent == "parameters" and last.isdigit():
            return ["components", "parameters"] if v3 else ["parameters"]
        if parent == "responses" and (len(path) < 3 or path[-3] != "properties"):
            return ["components", "responses"] if v3 else ["responses"]
        if v3 and last == "requestBody":
            return ["components", "requestBodies"]
        if v3 and parent in ("headers", "examples", "links", "callbacks") and path[-3:-2] != ["properties"]:
            return ["components", parent]
        return ["components", "schemas"] if v3 else ["definitions"]

    def _content(self, file: Path, ref: str, label: str, where: str) -> Any:
        if file not in self.files:
            if not file.is_file():
                raise UnresolvedReference(
                    ref, pointer=where, document=label, reason=f"file {self._label(file)} does not exist"
                )
            self.files[file] = read_document(file, name=self._label(file)).data
        return self.files[file]

    def _label(self, file: Path) -> str:
        if file == self.source:
            return str(self.source)
        try:
            return str(file.relative_to(self.root))
        except ValueError:
            return str(file)


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value
