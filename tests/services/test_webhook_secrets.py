"""A webhook's signing secret is a key ring token at rest, and key rotation moves it to the new key."""

from __future__ import annotations

from tether.secrets import KeyRing
from tether.services import create_webhook, rotate_keys
from tether.store import Webhooks


def test_the_signing_secret_is_encrypted_and_rotated_with_the_keys(db, admin, team) -> None:
    ring = KeyRing.from_keys(KeyRing.generate_key())
    info, secret = create_webhook(db, admin, team, "https://hooks.example.test/t", keyring=ring)
    with db.session() as session:
        stored = Webhooks(session).get(info.id).secret  # type: ignore[union-attr]
    assert secret not in stored and ring.decrypt(stored).decode() == secret
    rotate_keys(db, admin, ring)
    with db.session() as session:
        moved = Webhooks(session).get(info.id).secret  # type: ignore[union-attr]
    assert not ring.is_current(stored) and ring.is_current(moved)  # now under the new primary key
    assert ring.decrypt(moved).decode() == secret
