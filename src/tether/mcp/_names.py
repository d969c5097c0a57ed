"""Tool names: unique, stable, at most 64 characters of ``[A-Za-z0-9_-]`` (what MCP clients accept).

An operation's tool is ``<connection>__<operationId>`` (``sentiment__Sentiment``), a flow's
``flow__<name>``. The connection part is its display name made safe, so an agent (and the person
reading its transcript) sees which account a call goes through. When two targets would get the
same name, or a name is too long, EVERY target in that group gets a suffix hashed from its ids
(connection id and operation id, or flow id): the name then depends only on the target itself,
never on which other tools happen to exist or in what order they were listed.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Mapping
from typing import Final

__all__ = ["MAX_TOOL_NAME", "assign_names", "flow_tool", "operation_tool", "safe_part"]

MAX_TOOL_NAME: Final = 64
SEPARATOR: Final = "__"
HASH_CHARS: Final = 8
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def safe_part(text: str, *, fallback: str = "x") -> str:
    """``text`` with every run of other characters turned into ``-`` (lower-cased names stay readable)."""
    cleaned = _UNSAFE.sub("-", text.strip()).strip("-")
    return cleaned or fallback


def _hashed(name: str, key: str) -> str:
    digest = hashlib.sha256(key.encode()).hexdigest()[:HASH_CHARS]
    room = MAX_TOOL_NAME - HASH_CHARS - 1
    return f"{name[:room].rstrip('-_')}-{digest}"


def assign_names(wanted: Mapping[str, str]) -> dict[str, str]:
    """Tool names for targets: ``wanted`` maps a target's stable key to its readable name.

    Returns key → final name, unique among the given targets.
    """
    groups: dict[str, list[str]] = defaultdict(list)
    for key, name in wanted.items():
        groups[name.lower()].append(key)  # some clients compare names case-insensitively
    names: dict[str, str] = {}
    for keys in groups.values():
        for key in keys:
            name = wanted[key]
            names[key] = name if len(keys) == 1 and len(name) <= MAX_TOOL_NAME else _hashed(name, key)
    return names


def operation_tool(connection: str, operation_id: str) -> str:
    """The readable name of an operation's tool, before collisions are settled."""
    return f"{safe_part(connection).lower()}{SEPARATOR}{safe_part(operation_id)}"


def flow_tool(flow: str) -> str:
    """The readable name of a flow's tool."""
    return f"flow{SEPARATOR}{safe_part(flow)}"
