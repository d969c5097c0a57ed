"""What a built-in connector's operation handler receives and returns (see ``_builtin_dispatch``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tether.services._access import Principal
from tether.services._connection_call import PreparedCall
from tether.store import Database

__all__ = ["BuiltinAnswer", "BuiltinCall", "BuiltinHandler"]


@dataclass(frozen=True)
class BuiltinCall:
    """One call of a built-in operation: the prepared connection, who acts, and the arguments.

    ``actor`` is the caller (invoke) or the connection's owner (a flow run): admin operations
    answer what that user's role allows, never more.
    """

    db: Database
    prepared: PreparedCall
    actor: Principal
    arguments: Mapping[str, Any]

    @property
    def parameters(self) -> Mapping[str, Any]:
        """The connection's decrypted parameter values (for this call only)."""
        return self.prepared.connection.parameters


@dataclass(frozen=True)
class BuiltinAnswer:
    """What the operation answered, as an API would: a status and a JSON body."""

    status: int
    body: Any


BuiltinHandler = Callable[[BuiltinCall], Awaitable[BuiltinAnswer]]
