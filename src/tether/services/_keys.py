"""Key rotation: a new primary key, then every stored secret re-encrypted with it, while serving.

Work goes in small batches, each its own short transaction, so requests keep flowing between them
and a crash half-way leaves nothing broken: old ciphertexts still decrypt (the old keys stay on the
ring), and running the rotation again finishes the job (values already on the primary key are
skipped). Each row is re-read under its lock before rewriting, so a token refreshed meanwhile is
never overwritten with a stale one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from sqlalchemy import select

from tether.errors import PermissionDenied
from tether.secrets import KeyRing
from tether.services._access import Principal
from tether.store import (
    AuditLog,
    Connections,
    Database,
    EnvironmentVariables,
    FlowTrigger,
    PendingConsent,
    Webhook,
)

__all__ = ["KeyRotation", "rotate_keys"]

DEFAULT_BATCH: Final = 100


@dataclass(frozen=True, slots=True)
class KeyRotation:
    """What :func:`rotate_keys` did: values re-encrypted, and values that were already current."""

    keys: int
    reencrypted: int
    already_current: int


def rotate_keys(
    db: Database,
    principal: Principal,
    keyring: KeyRing,
    *,
    batch_size: int = DEFAULT_BATCH,
    rotate: bool = True,
) -> KeyRotation:
    """Add a new primary key (unless ``rotate`` is false) and re-encrypt every secret (platform admins).

    Other server processes keep decrypting with the keys they loaded; restart them after a rotation
    so they also encrypt with the new key (until then their new writes use the old one, which still
    works and is moved by the next rotation).
    """
    if not principal.is_admin:
        raise PermissionDenied("Only platform administrators can rotate the encryption keys.")
    if rotate:
        keyring.rotate()
    counts = [0, 0]

    def again(token: str | None) -> str | None:
        if token is None:
            return None
        if keyring.is_current(token):
            counts[1] += 1
            return token
        counts[0] += 1
        return keyring.reencrypt(token)

    _in_batches(db, batch_size, lambda repo, after, n: repo.ids_after(after, n), _connection_step(again))
    _in_batches(db, batch_size, lambda repo, after, n: repo.pending_ids_after(after, n), _pending_step(again))
    reencrypt_unsubscribe_calls(db, keyring, again, batch_size=batch_size)  # HttpWebhook triggers' rows
    with db.session() as session:
        repo = Connections(session)
        for secret in repo.install_secrets():
            secret.value = again(secret.value) or secret.value
        for variable in EnvironmentVariables(session).all_secure():  # secure environment variables
            variable.value = again(variable.value) or variable.value
        for hook in session.scalars(select(Webhook)):  # webhook subscriptions' signing secrets
            hook.secret = again(hook.secret) or hook.secret
        AuditLog(session).record(
            "keys.rotate", actor=principal.username, detail={"reencrypted": counts[0], "current": counts[1]}
        )
    return KeyRotation(keys=keyring.key_count, reencrypted=counts[0], already_current=counts[1])


_Step = Callable[[Connections, str], None]


def _connection_step(again: Callable[[str | None], str | None]) -> _Step:
    def step(repo: Connections, connection_id: str) -> None:
        row = repo.get(connection_id, for_update=True)
        if row is not None:
            row.secret_values, row.tokens = again(row.secret_values), again(row.tokens)

    return step


def _pending_step(again: Callable[[str | None], str | None]) -> _Step:
    def step(repo: Connections, consent_id: str) -> None:
        pending: PendingConsent | None = repo.pending(consent_id)
        if pending is not None:
            pending.verifier = again(pending.verifier)

    return step


def _in_batches(
    db: Database, size: int, page: Callable[[Connections, str, int], list[str]], step: _Step
) -> None:
    after = ""
    while True:
        with db.session() as session:
            repo = Connections(session)
            ids = page(repo, after, size)
            for row_id in ids:
                step(repo, row_id)
        if len(ids) < size:
            return
        after = ids[-1]


# The trigger type whose rows carry an encrypted unsubscribe call (hosting/_trigger_parts.py).
_HTTP_WEBHOOK = "HttpWebhook"


def reencrypt_unsubscribe_calls(
    db: Database, keyring: KeyRing, again: Callable[[str], str | None], *, batch_size: int
) -> None:
    """Key rotation: every HttpWebhook row's unsubscribe call through ``again`` (which re-encrypts a
    token with the primary key), in batches of short transactions, each row re-read under its lock.
    A row written before the call was encrypted is encrypted now."""
    after = ""
    while True:
        with db.session() as session:
            query = (
                select(FlowTrigger.flow_id)
                .where(FlowTrigger.trigger_type == _HTTP_WEBHOOK, FlowTrigger.flow_id > after)
                .order_by(FlowTrigger.flow_id)
                .limit(batch_size)
            )
            ids = list(session.scalars(query))
            for flow_id in ids:
                row = session.get(FlowTrigger, flow_id, with_for_update=True)
                stored = row.state.get("unsubscribe") if row is not None else None
                if row is None or not isinstance(stored, str | Mapping):
                    continue  # gone meanwhile, or no unsubscribe declared
                token = stored if isinstance(stored, str) else keyring.encrypt_json(dict(stored))
                row.state = {**row.state, "unsubscribe": again(token) or token}
        if len(ids) < batch_size:
            return
        after = ids[-1]
