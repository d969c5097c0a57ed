"""Running a built-in connector's operations in process: a registry keyed by (connector, operationId).

Why a registry and not an HTTP backend: the admin operations are Tether's own use cases, and
calling Tether's API over HTTP from inside Tether would need a token for the acting user and a
route back to the server; the Mail connector speaks SMTP, which the HTTP runtime does not. So
everything up to the wire stays the same as for any connector (the connection is prepared the
same way, its owner's right to use the connector is checked, flows match ``ApiConnection``
method and path to the operation, run history records inputs and outputs, errors become
problem answers), and only the last step differs: instead of the runtime's transport, the
handler registered here for the operation runs with the arguments and the acting user.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from tether.errors import NotFound
from tether.services._builtin_admins import (
    get_admin_connections,
    get_admin_connectors,
    get_admin_environments,
)
from tether.services._builtin_call import BuiltinAnswer, BuiltinCall, BuiltinHandler
from tether.services._builtin_mail import send_email
from tether.services._connection_call import PreparedCall
from tether.store import Database

__all__ = ["BUILTIN_OPERATIONS", "run_builtin"]

BUILTIN_OPERATIONS: Final[dict[tuple[str, str], BuiltinHandler]] = {
    ("tether-admins", "Get-AdminConnectors"): get_admin_connectors,
    ("tether-admins", "Get-AdminEnvironment"): get_admin_environments,
    ("tether-admins", "Get-AdminConnections"): get_admin_connections,
    ("mail-smtp", "SendEmail"): send_email,
}


async def run_builtin(
    db: Database, call: PreparedCall, operation_id: str, arguments: Mapping[str, Any]
) -> BuiltinAnswer:
    """Run ``operation_id`` of the built-in connector ``call`` prepared (``call.builtin`` is set)."""
    handler = BUILTIN_OPERATIONS.get((call.builtin or "", operation_id))
    if handler is None or call.actor is None:
        raise NotFound(f"{call.builtin}: no operation {operation_id!r}.")
    return await handler(BuiltinCall(db=db, prepared=call, actor=call.actor, arguments=arguments))
