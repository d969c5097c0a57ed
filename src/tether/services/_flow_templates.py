"""Flow templates that ship with Tether: ready definitions with the connections they expect.

A template is a JSON file in ``templates/``: a workflow ``definition``, a ``description`` and its
``connections`` (reference name in the definition ⇒ the built-in connector it needs), so a client
can make or pick the connections and create the flow in one go (``tether flow create --template``).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from tether.errors import NotFound

__all__ = ["FlowTemplate", "flow_template", "list_flow_templates"]


@dataclass(frozen=True, slots=True)
class FlowTemplate:
    """A shipped flow: its definition and which connector each connection reference needs."""

    name: str
    description: str
    definition: dict[str, Any]
    connections: dict[str, str]


def _folder() -> Any:
    return resources.files("tether.services").joinpath("templates")


@functools.cache
def _load(name: str) -> FlowTemplate:
    data = json.loads(_folder().joinpath(f"{name}.json").read_text(encoding="utf-8"))
    return FlowTemplate(name, data["description"], data["definition"], dict(data.get("connections") or {}))


def _names() -> list[str]:
    return sorted(
        entry.name.removesuffix(".json") for entry in _folder().iterdir() if entry.name.endswith(".json")
    )


def list_flow_templates() -> list[FlowTemplate]:
    """Every shipped template, by name."""
    return [_load(name) for name in _names()]


def flow_template(name: str) -> FlowTemplate:
    """The template ``name``; :class:`NotFound` naming the choices otherwise."""
    if name not in _names():
        raise NotFound(f"No flow template {name!r}: choose one of {', '.join(_names())}.")
    return _load(name)
