"""``tether export powerplatform --split N``: one connector per group of tags that fits.

Power Platform takes at most 256 operations (and 1 MB) per connector; a big API becomes
several connectors. Operations are grouped by their first tag (untagged ones together),
whole tags are packed into connectors of at most ``N`` operations in the order they first
appear (a tag bigger than ``N`` is cut into parts), and each connector keeps only the
definitions, parameters and responses its operations reference.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from tether.definition import DEFINITION_FILE, ConnectorPackage, package_from_files
from tether.errors import InputError
from tether.importers._export_checks import MAX_OPERATIONS, METHODS
from tether.importers._result import dump_json

__all__ = ["split_by_tag"]

_SHARED = ("definitions", "parameters", "responses")


def split_by_tag(package: ConnectorPackage, size: int) -> list[tuple[str, ConnectorPackage]]:
    """``(label, package)`` per connector of at most ``size`` operations (Swagger 2.0 input)."""
    if not 1 <= size <= MAX_OPERATIONS:
        raise InputError(f"--split takes a number of operations from 1 to {MAX_OPERATIONS}, not {size}")
    data = package.definition.data
    groups: dict[str, list[tuple[str, str]]] = {}
    for path, item in (data.get("paths") or {}).items():
        for method in METHODS:
            operation = item.get(method) if isinstance(item, dict) else None
            if isinstance(operation, dict):
                tags = operation.get("tags")
                tag = str(tags[0]) if isinstance(tags, list) and tags else "untagged"
                groups.setdefault(tag, []).append((path, method))
    bins: list[tuple[list[str], list[tuple[str, str]]]] = []
    for tag, operations in groups.items():
        for start in range(0, len(operations), size):
            chunk = operations[start : start + size]
            if bins and len(bins[-1][1]) + len(chunk) <= size:
                bins[-1][0].append(tag)
                bins[-1][1].extend(chunk)
            else:
                bins.append(([tag], list(chunk)))
    title = str((data.get("info") or {}).get("title") or "Connector")
    out = []
    for number, (tags, operations) in enumerate(bins, 1):
        part = _part(data, operations, f"{title} ({number} of {len(bins)})")
        files = {**package.files, DEFINITION_FILE: dump_json(part)}
        out.append((", ".join(dict.fromkeys(tags)), package_from_files(files, source=package.source)))
    return out


def _part(data: dict[str, Any], operations: list[tuple[str, str]], title: str) -> dict[str, Any]:
    part = {k: copy.deepcopy(v) for k, v in data.items() if k not in ("paths", *_SHARED)}
    part["info"] = {**(part.get("info") or {}), "title": title}
    paths: dict[str, Any] = {}
    for path, method in operations:
        item = data["paths"][path]
        target = paths.setdefault(path, {k: copy.deepcopy(v) for k, v in item.items() if k not in METHODS})
        target[method] = copy.deepcopy(item[method])
    part["paths"] = paths
    used = _referenced(data, paths)
    for section in _SHARED:
        shared = data.get(section) or {}
        kept = {k: copy.deepcopy(v) for k, v in shared.items() if f"#/{section}/{k}" in used}
        if kept:
            part[section] = kept
    if isinstance(part.get("tags"), list):
        names = {t for op in _each(paths) for t in op.get("tags", [])}
        part["tags"] = [t for t in part["tags"] if isinstance(t, dict) and t.get("name") in names]
    return part


def _each(paths: dict[str, Any]) -> list[dict[str, Any]]:
    return [op for item in paths.values() for m, op in item.items() if m in METHODS and isinstance(op, dict)]


def _referenced(data: dict[str, Any], start: Any) -> set[str]:
    """Every local ``$ref`` reachable from ``start`` through ``data``'s shared sections."""
    found: set[str] = set()
    pending = [start]
    while pending:
        text = json.dumps(pending.pop())
        for ref in set(_refs(text)) - found:
            found.add(ref)
            _, section, name = [*ref.split("/", 2), "", ""][:3]
            target = (data.get(section) or {}).get(name.replace("~1", "/").replace("~0", "~"))
            if target is not None:
                pending.append(target)
    return found


def _refs(text: str) -> list[str]:
    out, marker = [], '"$ref": "'
    start = text.find(marker)
    while start != -1:
        end = text.find('"', start + len(marker))
        out.append(text[start + len(marker) : end])
        start = text.find(marker, end)
    return out
