"""Local ``$ref`` resolution for API definitions, cycles included.

The compiler hands every schema to the runtime and the linter with its references already
replaced, so nobody downstream has to carry the document around. Two things make that
harder than a recursive substitution:

* Recursive schemas (a ``Node`` whose ``children`` are ``Node``\\ s) are common. Each
  reference target is resolved **once** per document into a shared dict, and every use
  points at that same object, so a cycle becomes a cycle of Python references: no
  infinite loop, no unbounded copying. Consumers that walk schemas must therefore track
  what they have visited (``json.dumps`` refuses such a schema; ``jsonschema`` validation,
  driven by the finite instance, is fine).
* Documents are big (the Power Platform corpus is 85 MB) and mostly reference-free, so a
  subtree without references is returned as the very same object, and one that has some
  is copied shallowly along the path to them. The results are shared with the source
  document: treat them as read-only.

Keys written beside a ``$ref`` (``description``, ``x-ms-summary``... 400 times in the
corpus) override the target's, as OpenAPI 3.1 specifies and as connector authors expect
even in Swagger 2.0, where the specification says to ignore them.

A bare name in Swagger 2.0 (``$ref: "Pet"``) is ``#/definitions/Pet``, as swagger-parser reads it.
References to other files or URLs are not fetched (``definition`` never touches disk or
network): they are left in place and recorded in ``Resolver.external``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from tether.definition._document import escape_pointer
from tether.errors import InputError

__all__ = [
    "ExternalRef",
    "ReferenceCycle",
    "Resolver",
    "UnresolvedReference",
    "reference_cycles",
    "unescape_pointer",
]

_BARE_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


class UnresolvedReference(InputError):
    """A local ``$ref`` points at nothing in the document.

    Names the reference, the JSON pointer where it is written and the document, so the
    author can fix it without hunting.
    """

    code = "unresolved-reference"

    def __init__(self, ref: str, *, pointer: str, document: str, reason: str) -> None:
        message = f"{document}: cannot resolve $ref '{ref}' at {pointer or '/'}: {reason}"
        super().__init__(
            message, detail={"ref": ref, "pointer": pointer, "document": document, "reason": reason}
        )
        self.ref, self.pointer, self.document, self.reason = ref, pointer, document, reason


@dataclass(frozen=True, slots=True)
class ExternalRef:
    """A reference to another file or URL, kept as written (``ref``) where it occurs (``pointer``)."""

    ref: str
    pointer: str


@dataclass(frozen=True, slots=True)
class ReferenceCycle:
    """References that only point at each other (``A: {$ref: B}``, ``B: {$ref: A}``).

    Unlike a recursive schema (a ``Node`` whose ``children`` are ``Node`` objects, legal and
    common), such a chain never reaches a value: it describes nothing, and tools that follow
    it (validators, code generators) loop. ``pointer`` is where the first reference is
    written; ``chain`` the references in order, back to the first.
    """

    pointer: str
    chain: tuple[str, ...]

    def describe(self) -> str:
        return " -> ".join(self.chain)


def reference_cycles(root: Any) -> list[ReferenceCycle]:
    """Every chain of local references in ``root`` that loops without reaching a value.

    One pass over the document plus one walk per distinct reference chain; each cycle is
    reported once, at the first place (in document order) a reference leads into it.
    """
    resolver = Resolver(root)
    ends: dict[str, bool] = {}  # ref -> True when its chain reaches a value (or leaves the document)
    cycles: list[ReferenceCycle] = []
    reported: set[frozenset[str]] = set()
    stack: list[tuple[Any, str]] = [(root, "")]
    while stack:
        node, pointer = stack.pop()
        if type(node) is dict:
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#") and ref not in ends:
                cycle = _follow_chain(resolver, ref, pointer, ends)
                if cycle and frozenset(cycle) not in reported:
                    reported.add(frozenset(cycle))
                    cycles.append(ReferenceCycle(pointer, (*cycle, cycle[0])))
            children: Any = node.items()
        elif type(node) is list:
            children = enumerate(node)
        else:
            continue
        for key, value in reversed(list(children)):
            if type(value) is dict or type(value) is list:
                stack.append((value, f"{pointer}/{_escape(str(key))}"))
    return cycles


def _follow_chain(resolver: Resolver, ref: str, pointer: str, ends: dict[str, bool]) -> list[str]:
    """The refs of the loop ``ref``'s chain falls into (empty when the chain ends)."""
    chain: list[str] = []
    current: str | None = ref
    while current is not None and current not in ends:
        if current in chain:
            loop = chain[chain.index(current) :]
            for seen in chain:
                ends[seen] = seen not in loop
            return loop
        chain.append(current)
        try:
            target, _ = resolver.lookup(current, at=pointer)
        except UnresolvedReference:
            target = None  # reported elsewhere, as an unresolved reference
        following = target.get("$ref") if isinstance(target, dict) else None
        current = following if isinstance(following, str) and following.startswith("#") else None
    for seen in chain:
        ends[seen] = True
    return []


def _escape(token: str) -> str:
    # escape_pointer, minus the work for the common token that needs none (this is the hot path).
    return token if "~" not in token and "/" not in token else escape_pointer(token)


def unescape_pointer(token: str) -> str:
    """Undo RFC 6901 escaping of one reference token (``~1`` is ``/``, ``~0`` is ``~``)."""
    return token.replace("~1", "/").replace("~0", "~")


class Resolver:
    """Resolves the local references of one document, remembering every target it resolved.

    Create one per compiled document: targets are shared between every place that uses
    them, which is what keeps recursive schemas finite and big documents cheap.
    """

    def __init__(self, root: Any, *, name: str = "definition") -> None:
        self.root = root
        self.name = name
        self.external: list[ExternalRef] = []
        self._seen_external: set[tuple[str, str]] = set()
        self._memo: dict[str, Any] = {}
        self._lookups: dict[str, tuple[Any, str]] = {}
        # ids of target dicts still being filled; a use inside one is a cycle.
        self._in_progress: set[int] = set()
        # (merged, target, siblings) whose target was in progress when first met.
        self._pending: list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]] = []
        self._depth = 0

    def lookup(self, ref: str, *, at: str) -> tuple[Any, str]:
        """Return the raw value a local ``ref`` points at and its canonical JSON pointer.

        ``at`` is the pointer where the reference is written, for the error message.
        """
        found = self._lookups.get(ref)
        if found is not None:
            return found
        if not ref.startswith("#"):
            raise UnresolvedReference(ref, pointer=at, document=self.name, reason="not a local reference")
        fragment = ref[1:]
        if fragment and not fragment.startswith("/"):
            raise UnresolvedReference(
                ref, pointer=at, document=self.name, reason="the fragment is not a JSON pointer"
            )
        node = self.root
        tokens: list[str] = []
        for raw_token in fragment.split("/")[1:] if fragment else []:
            token = unescape_pointer(raw_token)
            node, token = self._step(node, token, ref, at, tokens)
            tokens.append(token)
        found = node, "".join("/" + escape_pointer(t) for t in tokens)
        self._lookups[ref] = found
        return found

    def follow(self, node: Any, pointer: str) -> tuple[Any, str]:
        """Follow ``node`` while it is a ``{"$ref": ...}`` object (parameters, responses, path items).

        Returns the first non-reference value and its pointer. Sibling keys override the
        target's, shallowly. External references come back unchanged (and are recorded).
        """
        seen: set[str] = set()
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref: str = self._bare_name(node["$ref"])
            if not ref.startswith("#"):
                self._record_external(ref, pointer)
                return node, pointer
            if ref in seen:
                raise UnresolvedReference(
                    ref, pointer=pointer, document=self.name, reason="circular reference"
                )
            seen.add(ref)
            target, target_pointer = self.lookup(ref, at=pointer)
            if len(node) > 1 and isinstance(target, dict):
                target = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
            node, pointer = target, target_pointer
        return node, pointer

    def schema(self, node: Any, pointer: str) -> Any:
        """Return ``node`` (found at ``pointer``) with every local reference inside replaced."""
        self._depth += 1
        try:
            return self._resolve(node, pointer)
        finally:
            self._depth -= 1
            if self._depth == 0 and self._pending:
                self._finish_pending()

    # -- internals -------------------------------------------------------------------

    def _step(self, node: Any, token: str, ref: str, at: str, done: list[str]) -> tuple[Any, str]:
        if isinstance(node, dict):
            if token in node:
                return node[token], token
            decoded = unquote(token)  # "#/definitions/My%20Type" is common in generated documents
            if decoded in node:
                return node[decoded], decoded
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            return node[int(token)], token
        where = "".join("/" + escape_pointer(t) for t in done) or "the document root"
        raise UnresolvedReference(
            ref, pointer=at, document=self.name, reason=f"'{token}' not found under {where}"
        )

    def _bare_name(self, ref: str) -> str:
        """``#/definitions/Pet`` for Swagger 2.0's bare ``Pet``, as swagger-parser reads it."""
        if ref.startswith("#") or not _BARE_NAME.match(ref) or not isinstance(self.root, dict):
            return ref
        definitions = self.root.get("definitions") if "swagger" in self.root else None
        return f"#/definitions/{ref}" if isinstance(definitions, dict) and ref in definitions else ref

    def _record_external(self, ref: str, pointer: str) -> None:
        if (ref, pointer) not in self._seen_external:
            self._seen_external.add((ref, pointer))
            self.external.append(ExternalRef(ref, pointer))

    def _resolve(self, node: Any, pointer: str) -> Any:
        if type(node) is dict:
            ref = node.get("$ref")
            if isinstance(ref, str):
                return self._resolve_ref(node, ref, pointer)
            out: dict[str, Any] | None = None
            for key, value in node.items():
                if type(value) is dict or type(value) is list:
                    new = self._resolve(value, f"{pointer}/{_escape(key)}")
                    if new is not value:
                        if out is None:
                            out = dict(node)
                        out[key] = new
            return node if out is None else out
        if type(node) is list:
            items: list[Any] | None = None
            for index, value in enumerate(node):
                if type(value) is dict or type(value) is list:
                    new = self._resolve(value, f"{pointer}/{index}")
                    if new is not value:
                        if items is None:
                            items = list(node)
                        items[index] = new
            return node if items is None else items
        return node

    def _resolve_ref(self, node: dict[str, Any], ref: str, pointer: str) -> Any:
        ref = self._bare_name(ref)
        if not ref.startswith("#"):
            self._record_external(ref, f"{pointer}/$ref")
            return node
        target = self._target(ref, pointer)
        if len(node) == 1:
            return target
        siblings = {
            key: self._resolve(value, f"{pointer}/{_escape(str(key))}")
            for key, value in node.items()
            if key != "$ref"
        }
        if not isinstance(target, dict):
            return target
        merged: dict[str, Any] = {}
        if id(target) in self._in_progress:
            self._pending.append((merged, target, siblings))
        else:
            merged.update(target)
            merged.update(siblings)
        return merged

    def _target(self, ref: str, pointer: str) -> Any:
        """The resolved, shared value of ``ref``: resolved once, then reused."""
        cached = self._memo.get(ref)
        if cached is not None:
            return cached
        raw, target_pointer = self.lookup(ref, at=pointer)
        key = "#" + target_pointer  # spellings of the same target share one result
        cached = self._memo.get(key)
        if cached is not None:
            self._memo[ref] = cached
            return cached
        if type(raw) is not dict:
            # A list or scalar cannot hold a cycle back to itself through a dict placeholder.
            value = self._resolve(raw, target_pointer)
            self._memo[ref] = self._memo[key] = value
            return value
        # Register the (empty) result before resolving inside it so a cycle finds it.
        out: dict[str, Any] = {}
        self._memo[ref] = self._memo[key] = out
        self._in_progress.add(id(out))
        try:
            resolved = self._resolve(raw, target_pointer)
        finally:
            self._in_progress.discard(id(out))
        if resolved is out:
            pass  # {"$ref": itself}: nothing to describe, stays empty
        elif type(resolved) is dict and id(resolved) in self._in_progress:
            self._pending.append((out, resolved, {}))
        elif type(resolved) is dict:
            out.update(resolved)
        return out

    def _finish_pending(self) -> None:
        # Later entries were met deeper in the walk; filling them first lets earlier
        # entries copy complete targets.
        pending, self._pending = self._pending, []
        for merged, target, siblings in reversed(pending):
            merged.update(target)
            merged.update(siblings)
