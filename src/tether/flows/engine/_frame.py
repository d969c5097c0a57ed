"""What one action can see: results of actions before it, and the loop it runs in.

Action names are unique in a definition, so actions in a Scope, If or Switch publish into the
same table as the top level. A loop iteration gets a child frame: inside it ``body('x')`` reads
this iteration's ``x``, and ``item()`` this iteration's item.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from tether.flows.expressions import NO_ITEM

__all__ = ["Frame"]


@dataclass
class Frame:
    """Action results and loop variables visible at one place of a run."""

    parent: Frame | None = None
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    scope_results: dict[str, list[Any]] = field(default_factory=dict)
    item: Any = NO_ITEM
    items: dict[str, Any] = field(default_factory=dict)
    iteration_indexes: dict[str, int] = field(default_factory=dict)

    def child(self, *, loop: str, item: Any = NO_ITEM, index: int | None = None) -> Frame:
        frame = Frame(
            parent=self,
            item=self.item,
            items=dict(self.items),
            iteration_indexes=dict(self.iteration_indexes),
        )
        if item is not NO_ITEM:
            frame.item = item
            frame.items[loop] = item
        if index is not None:
            frame.iteration_indexes[loop] = index
        return frame

    def actions(self) -> Mapping[str, Mapping[str, Any]]:
        if self.parent is None:
            return self.results
        return ChainMap(*(frame.results for frame in self._lineage()))

    def scopes(self) -> Mapping[str, list[Any]]:
        if self.parent is None:
            return self.scope_results
        return ChainMap(*(frame.scope_results for frame in self._lineage()))

    def _lineage(self) -> Iterator[Frame]:
        """This frame, then its parent, up to the top: the order a name is looked up in."""
        frame: Frame | None = self
        while frame is not None:
            yield frame
            frame = frame.parent
