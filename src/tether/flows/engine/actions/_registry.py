"""The registry from action type to handler (Airbyte's model-to-component factory, in small)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from tether.flows.engine._step import Outcome, Step

__all__ = ["ACTIONS", "ActionKind", "Handler", "action"]

Handler = Callable[[Step], Awaitable[Outcome]]


@dataclass(frozen=True)
class ActionKind:
    """A handler and what the runner must know about it.

    ``side_effects``: journal the action as running before it starts (history shows it, and a
    resume knows it was in flight). ``container``: it runs nested actions (``result()`` works on
    it). ``owns_limit``: its ``limit`` means something else than an action timeout (Until).
    """

    handler: Handler
    side_effects: bool = False
    container: bool = False
    owns_limit: bool = False


ACTIONS: dict[str, ActionKind] = {}


def action(
    *types: str, side_effects: bool = False, container: bool = False, owns_limit: bool = False
) -> Callable[[Handler], Handler]:
    """Register ``handler`` for the given action types."""

    def register(handler: Handler) -> Handler:
        for kind in types:
            ACTIONS[kind] = ActionKind(handler, side_effects, container, owns_limit)
        return handler

    return register
