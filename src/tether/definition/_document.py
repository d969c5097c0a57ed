"""Reading JSON and YAML documents leniently, with exact positions.

Real connector files are messy: the Power Platform corpus has UTF-8 byte-order marks,
``//`` comments, trailing commas and raw control characters inside strings. Microsoft's
tools accept these, so Tether does too, but says so with a warning naming the file. A
document that is broken beyond that raises ``DocumentSyntaxError`` with file, line,
column and the text around the problem.

Positions for JSON pointers (used by lint findings) are computed lazily, only when a
finding asks for one, because building a source map costs far more than parsing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from tether.definition._limits import MAX_DOCUMENT_BYTES, MAX_NESTING_DEPTH, MAX_YAML_ALIAS_NODES
from tether.errors import DocumentSyntaxError, InputTooLarge, LimitExceeded

__all__ = ["Document", "escape_pointer", "parse_document", "read_document"]

Format = Literal["json", "yaml"]

_YAML_SUFFIXES = {".yaml", ".yml"}
_EXCERPT_CONTEXT_LINES = 1


@dataclass(eq=False)
class Document:
    """One parsed JSON or YAML file.

    ``data`` is the plain Python value (dicts keep the file's key order). ``name`` is how
    the file is named in messages (usually the path the user gave). ``warnings`` lists
    what the lenient reader had to forgive.

    Reading is bounded (see ``_limits.py``): past ``MAX_DOCUMENT_BYTES``, ``MAX_NESTING_DEPTH``
    or ``MAX_YAML_ALIAS_NODES`` it raises ``LimitExceeded`` instead of working without end.
    """

    data: Any
    name: str
    text: str
    format: Format
    warnings: list[str] = field(default_factory=list)
    _lines: dict[str, int] | None = field(default=None, repr=False)

    def line_of(self, pointer: str) -> int | None:
        """Return the 1-based line where the value at JSON ``pointer`` starts.

        Falls back to the nearest ancestor that has a known position, so a finding
        about a missing key points at the object that should hold it.
        """
        if self._lines is None:
            self._lines = _line_map(self.text)
        while True:
            line = self._lines.get(pointer)
            if line is not None:
                return line
            if not pointer:
                return 1 if self.text else None
            pointer = pointer.rsplit("/", 1)[0]


def read_document(path: str | Path, *, name: str | None = None) -> Document:
    """Read and parse the file at ``path``; YAML when its suffix says so, else JSON."""
    path = Path(path)
    label = name or str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DocumentSyntaxError(
            f"cannot read the file ({exc.strerror or exc})", file=label, line=1, column=1
        ) from exc
    fmt: Format = "yaml" if path.suffix.lower() in _YAML_SUFFIXES else "json"
    return parse_document(raw, name=label, format=fmt)


def parse_document(raw: bytes | str, *, name: str, format: Format | None = None) -> Document:
    """Parse ``raw`` bytes or text as JSON (leniently) or YAML.

    With no ``format``, content that starts like JSON is read as JSON and anything else
    as YAML, which suits uploads whose file name says little.
    """
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise InputTooLarge(
            f"{name}: {len(raw) / 2**20:.1f} MiB is more than the {MAX_DOCUMENT_BYTES // 2**20} MiB "
            "a document may have; split it or remove unused parts",
            limit="MAX_DOCUMENT_BYTES",
            value=MAX_DOCUMENT_BYTES,
            file=name,
        )
    warnings: list[str] = []
    text = _decode(raw, name, warnings)
    if format is None:
        format = "json" if text.lstrip()[:1] in ("{", "[") else "yaml"
    data = _parse_yaml(text, name) if format == "yaml" else _parse_json(text, name, warnings)
    _check_depth(data, name)
    return Document(data=data, name=name, text=text, format=format, warnings=warnings)


def escape_pointer(token: str | int) -> str:
    """Escape one JSON-pointer reference token (RFC 6901)."""
    return str(token).replace("~", "~0").replace("/", "~1")


def _decode(raw: bytes | str, name: str, warnings: list[str]) -> str:
    if isinstance(raw, str):
        text = raw
    else:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            # Older Windows tools save Windows-1252; every byte sequence decodes as Latin-1.
            line = raw.count(b"\n", 0, exc.start) + 1
            text = raw.decode("cp1252", errors="replace") if _is_cp1252(raw) else raw.decode("latin-1")
            warnings.append(f"{name}: is not UTF-8 (first bad byte on line {line}); read as Windows-1252")
    if text.startswith("\ufeff"):
        # Windows editors add a byte-order mark; harmless, but not JSON, so say so.
        warnings.append(f"{name}: starts with a UTF-8 byte-order mark (ignored)")
        text = text[1:]
    return text


def _is_cp1252(raw: bytes) -> bool:
    try:
        raw.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return True


def _too_deep(name: str, where: str = "") -> LimitExceeded:
    return LimitExceeded(
        f"{name}{where}: nested more than {MAX_NESTING_DEPTH} levels deep, far more than any real API "
        "description needs; flatten the structure (e.g. move nested schemas or folders up a level)",
        limit="MAX_NESTING_DEPTH",
        value=MAX_NESTING_DEPTH,
        file=name,
    )


def _check_depth(data: Any, name: str) -> None:
    """Refuse data nested deeper than ``MAX_NESTING_DEPTH``.

    Every walker downstream (the resolver, lint, the importers) recurses, so depth is what
    turns a small file into a crash; one iterative pass here (~15% of a parse) bounds them all.
    """
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if type(node) is dict else node if type(node) is list else ()
        for child in children:
            if type(child) is dict or type(child) is list:
                if depth >= MAX_NESTING_DEPTH:
                    raise _too_deep(name)
                stack.append((child, depth + 1))


def _parse_json(text: str, name: str, warnings: list[str]) -> Any:
    try:
        return _loads(text, name)
    except json.JSONDecodeError as strict_error:
        first_error = strict_error
    try:
        data = _loads(text, name, strict=False)
        warnings.append(f"{name}: contains raw control characters inside strings (accepted)")
        return data
    except json.JSONDecodeError:
        pass
    try:
        data = _loads(_blank_comments_and_trailing_commas(text), name, strict=False)
    except json.JSONDecodeError:
        # Report the strict parser's error: its position is exact and its wording familiar.
        raise _json_error(first_error, name, text) from first_error
    warnings.append(
        f"{name}: is not strict JSON (comments, trailing commas or similar; accepted) — "
        f"{first_error.msg} at line {first_error.lineno} column {first_error.colno}"
    )
    return data


def _loads(text: str, name: str, *, strict: bool = True) -> Any:
    try:
        return json.loads(text, strict=strict)
    except RecursionError as exc:  # the C decoder stops near the interpreter's recursion limit
        raise _too_deep(name) from exc


# Strings are matched first so that "//" or "," inside them is left alone.
_JSON_NOISE = re.compile(r'"(?:\\.|[^"\\])*"|//[^\n]*|/\*.*?\*/|,(?=\s*[}\]])', re.DOTALL)


def _blank_comments_and_trailing_commas(text: str) -> str:
    """Blank out ``//`` and ``/* */`` comments and trailing commas, keeping every position.

    This is deliberately narrower than JSON5 (which also takes single quotes, hex numbers
    and Unicode spaces): it forgives what editors and Microsoft's tools forgive, nothing
    more, and since the replacement is the same length, error positions stay exact.
    """

    def blank(match: re.Match[str]) -> str:
        token = match.group()
        if token.startswith('"'):
            return token
        return re.sub(r"[^\n]", " ", token)

    return _JSON_NOISE.sub(blank, text)


def _json_error(error: json.JSONDecodeError, name: str, text: str) -> DocumentSyntaxError:
    return DocumentSyntaxError(
        f"invalid JSON: {error.msg}",
        file=name,
        line=error.lineno,
        column=error.colno,
        excerpt=_excerpt(text, error.lineno, error.colno),
    )


def _parse_yaml(text: str, name: str) -> Any:
    loader = _yaml_loader()(text)
    try:
        # Compose first (libyaml, fast; aliases stay shared nodes), check the node graph's
        # depth and alias expansion, and only then build Python values from it.
        node = loader.get_single_node()
        if node is None:
            return None
        _check_yaml_graph(node, name)
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        reason = exc.problem or exc.context or "invalid YAML"
        raise DocumentSyntaxError(
            f"invalid YAML: {reason}",
            file=name,
            line=line,
            column=column,
            excerpt=_excerpt(text, line, column),
        ) from exc
    except yaml.YAMLError as exc:
        raise DocumentSyntaxError(f"invalid YAML: {exc}", file=name, line=1, column=1) from exc
    except RecursionError as exc:
        raise _too_deep(name) from exc
    finally:
        loader.dispose()


def _check_yaml_graph(root: yaml.Node, name: str) -> None:
    """Refuse a YAML node graph that is too deep, recursive, or grows too much through aliases.

    An alias makes a node appear again wherever it is used, so ``[*a, *a, ...]`` nine levels
    deep is a few hundred bytes that every tree walker sees as billions of nodes (the
    "billion laughs"). The graph is walked once, each distinct node once, computing the size
    the document has when expanded; expansion beyond ``MAX_YAML_ALIAS_NODES`` more than the
    written nodes, or an alias inside its own anchor (a cycle), is refused.
    """
    expanded: dict[int, int] = {}  # id(node) -> size of its expansion, once finished
    depth_of: dict[int, int] = {}  # id(node) -> height of its expansion, once finished
    on_path: set[int] = set()
    # (node, children iterator or None when not yet entered)
    stack: list[tuple[yaml.Node, Iterator[yaml.Node] | None]] = [(root, None)]
    while stack:
        node, children = stack[-1]
        if children is None:
            if len(stack) > MAX_NESTING_DEPTH:
                raise _too_deep(name, _yaml_where(node))
            on_path.add(id(node))
            children = iter(_yaml_children(node))
            stack[-1] = (node, children)
        child = next(children, None)
        if child is not None:
            if id(child) in on_path:
                raise LimitExceeded(
                    f"{name}{_yaml_where(child)}: a YAML alias refers to a node that contains it "
                    "(a recursive anchor), which JSON cannot represent; remove the alias",
                    limit="MAX_YAML_ALIAS_NODES",
                    value=MAX_YAML_ALIAS_NODES,
                    file=name,
                )
            if id(child) not in expanded:
                stack.append((child, None))
            elif len(stack) + depth_of[id(child)] > MAX_NESTING_DEPTH:
                raise _too_deep(name, _yaml_where(child))
            continue
        stack.pop()
        on_path.discard(id(node))
        kids = _yaml_children(node)
        expanded[id(node)] = 1 + sum(expanded[id(k)] for k in kids)
        depth_of[id(node)] = 1 + max((depth_of[id(k)] for k in kids), default=0)
    extra = expanded[id(root)] - len(expanded)
    if extra > MAX_YAML_ALIAS_NODES:
        raise LimitExceeded(
            f"{name}: YAML aliases (*name) expand the document by {extra:,} nodes, more than the "
            f"{MAX_YAML_ALIAS_NODES:,} allowed (an alias bomb?); write the repeated parts out or use $ref",
            limit="MAX_YAML_ALIAS_NODES",
            value=MAX_YAML_ALIAS_NODES,
            file=name,
        )


def _yaml_children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _yaml_where(node: yaml.Node) -> str:
    mark = node.start_mark
    return f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""


class _JsonModelLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """libyaml's safe loader (fast), minus YAML 1.1 timestamps.

    API documents use JSON's data model: ``version: 2023-08-16`` is a string, and turning
    it into a ``datetime.date`` would break JSON Schema checks and JSON output.
    """


_JsonModelLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _JsonModelLoader.yaml_implicit_resolvers.items()
}


def _yaml_loader() -> type[yaml.SafeLoader]:
    return _JsonModelLoader


def _excerpt(text: str, line: int, column: int) -> str:
    """A few lines around ``line`` with a caret under ``column``, like a compiler shows."""
    lines = text.splitlines()
    start = max(line - 1 - _EXCERPT_CONTEXT_LINES, 0)
    end = min(line + _EXCERPT_CONTEXT_LINES, len(lines))
    width = len(str(end))
    out = []
    for number in range(start + 1, end + 1):
        content = lines[number - 1]
        if len(content) > 160:
            # Minified JSON puts everything on one line: show the part around the column.
            lo = max(column - 80, 0) if number == line else 0
            content = content[lo : lo + 160]
            caret_column = column - lo
        else:
            caret_column = column
        out.append(f"  {number:>{width}} | {content}")
        if number == line:
            out.append(f"  {' ' * width} | {' ' * max(caret_column - 1, 0)}^")
    return "\n".join(out)


def _line_map(text: str) -> dict[str, int]:
    """Map every JSON pointer in ``text`` to the 1-based line where its value starts.

    Walks libyaml's event stream (fast, and JSON is YAML); when libyaml rejects the text
    (tabs, JSON5 extras), returns only the root so callers still get line 1.
    """
    try:
        return dict(_walk_events(yaml.parse(text, Loader=_yaml_loader())))
    except yaml.YAMLError:
        return {"": 1}


def _walk_events(events: Iterator[yaml.Event]) -> Iterator[tuple[str, int]]:
    # A stack of containers: [pointer, is_mapping, next_index_or_pending_key].
    stack: list[list[Any]] = []

    def child_pointer(event: yaml.Event) -> str | None:
        """The pointer of the value this event starts, or None when it is a mapping key."""
        if not stack:
            return ""
        top = stack[-1]
        if top[1]:  # mapping: alternate key, value
            if top[2] is None:
                return None
            key, top[2] = top[2], None
            return f"{top[0]}/{escape_pointer(key)}"
        index = top[2]
        top[2] += 1
        return f"{top[0]}/{index}"

    for event in events:
        if isinstance(event, yaml.ScalarEvent):
            pointer = child_pointer(event)
            if pointer is None:
                stack[-1][2] = event.value
            else:
                yield pointer, _line(event)
        elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            pointer = child_pointer(event)
            if pointer is None:  # a complex key: give it a placeholder name
                stack[-1][2] = "?"
                pointer = ""
            yield pointer, _line(event)
            is_mapping = isinstance(event, yaml.MappingStartEvent)
            stack.append([pointer, is_mapping, None if is_mapping else 0])
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            stack.pop()
        elif isinstance(event, yaml.AliasEvent):
            pointer = child_pointer(event)
            if pointer is not None:
                yield pointer, _line(event)


def _line(event: yaml.Event) -> int:
    """The 1-based line an event starts on (PyYAML's parser always sets the mark)."""
    assert event.start_mark is not None
    return event.start_mark.line + 1
