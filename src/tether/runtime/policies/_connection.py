"""``setconnectionstatustounauthenticated``: an answer that means "sign in again".

Not in Microsoft's schema; its one use (DeskDirector, "Set unauthorized status",
``statusCode: 401``) reads as: when the API answers with this status, the connection's
credentials no longer work and its status becomes *unauthenticated*, so the user is asked
to fix the connection rather than seeing an opaque failure. Tether raises
:class:`ConnectionUnauthenticated` (an ``AuthError``) naming the connection; the services
layer marks the connection. It runs on responses of any section (default: Failure, since
the statuses worth watching are errors); without ``statusCode`` it watches 401.
"""

from __future__ import annotations

from tether.runtime.policies._base import Builder, Policy, PolicyInstance
from tether.runtime.policies._call import PolicyCall, Section
from tether.runtime.policies._errors import ConnectionUnauthenticated, InvalidPolicy

__all__ = ["BUILDERS", "SetConnectionStatusToUnauthenticated"]


class SetConnectionStatusToUnauthenticated(Policy):
    """Turn a given response status into ``ConnectionUnauthenticated``."""

    default_section: Section = "Failure"

    def __init__(self, instance: PolicyInstance) -> None:
        super().__init__(instance)
        try:
            self.status = int(instance.parameters.get("statusCode", 401))
        except (TypeError, ValueError):
            raise InvalidPolicy(f"policy {self.title!r}: statusCode must be an HTTP status number") from None
        if self.status < 400 and instance.section is None:
            self.section = "Response"

    async def apply(self, call: PolicyCall) -> None:
        if call.response is not None and call.response.status_code == self.status:
            connection = call.exchange.connection.connection_id
            raise ConnectionUnauthenticated(
                f"the API answered {self.status} for connection '{connection}': its credentials no longer "
                "work; sign in again or update the connection",
                detail={"connection_id": connection, "status": self.status},
            )


BUILDERS: dict[str, Builder] = {"setconnectionstatustounauthenticated": SetConnectionStatusToUnauthenticated}
