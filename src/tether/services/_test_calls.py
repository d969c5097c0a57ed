"""The portal's Test tab history: record a user's test call on a connector, list their last ones.

A user only ever sees their own calls, on connectors they may read. The call's headers, body,
warnings and error are sealed with the key ring (a test answer can hold anything the API sent);
a call sealed under a key since retired is left out rather than failing the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tether.secrets import DecryptionFailed, KeyRing
from tether.services._access import Principal, standing
from tether.services._connectors import _checked
from tether.store import Database, PortalTestCall, PortalTestCalls

__all__ = ["TEST_CALLS_KEPT", "TestCallInfo", "list_test_calls", "record_test_call"]

TEST_CALLS_KEPT = 20


@dataclass(frozen=True)
class TestCallInfo:
    """One test call as the Test tab shows it."""

    id: str
    created_at: datetime
    operation_id: str
    connection_id: str | None
    status: int | None
    duration_ms: float
    headers: dict[str, str]
    body: Any
    warnings: tuple[str, ...]
    error: str | None
    request: str = ""


def record_test_call(
    db: Database,
    principal: Principal,
    environment: str,
    connector: str,
    *,
    operation_id: str,
    connection_id: str | None,
    status: int | None,
    duration_ms: float,
    headers: dict[str, str],
    body: Any,
    warnings: tuple[str, ...] = (),
    error: str | None = None,
    request: str = "",
    keyring: KeyRing,
) -> None:
    """Keep the caller's call on ``connector`` (any reader); only the last :data:`TEST_CALLS_KEPT` stay."""
    sealed = keyring.encrypt_json(
        {"headers": headers, "body": body, "warnings": list(warnings), "error": error, "request": request}
    )
    with db.session() as session:
        found = _checked(session, standing(session, principal, environment), connector, "read")
        PortalTestCalls(session).add(
            PortalTestCall(
                user_id=principal.user_id,
                connector_id=found.id,
                operation_id=operation_id[:200],
                connection_id=connection_id,
                status=status,
                duration_ms=duration_ms,
                sealed=sealed,
            ),
            keep=TEST_CALLS_KEPT,
        )


def list_test_calls(
    db: Database, principal: Principal, environment: str, connector: str, *, keyring: KeyRing
) -> list[TestCallInfo]:
    """The caller's last test calls on ``connector``, newest first."""
    with db.session() as session:
        found = _checked(session, standing(session, principal, environment), connector, "read")
        rows = PortalTestCalls(session).recent(principal.user_id, found.id, limit=TEST_CALLS_KEPT)
        calls = []
        for row in rows:
            try:
                opened = keyring.decrypt_json(row.sealed)
            except DecryptionFailed:
                continue
            calls.append(
                TestCallInfo(
                    id=row.id, created_at=row.created_at, operation_id=row.operation_id,
                    connection_id=row.connection_id, status=row.status, duration_ms=row.duration_ms,
                    headers=dict(opened.get("headers") or {}), body=opened.get("body"),
                    warnings=tuple(opened.get("warnings") or ()), error=opened.get("error"),
                    request=str(opened.get("request") or ""),
                )
            )  # fmt: skip
        return calls
