"""Secrets at rest and in logs: the key ring that encrypts connection credentials, and redaction.

The lowest layer of the runtime stack (``runtime -> auth -> secrets``). It reads and writes only its
own key file, never a database; the store keeps the ciphertexts :class:`KeyRing` makes.

    ring = KeyRing.from_settings(settings)
    stored = ring.encrypt_json({"api_key": "..."})
    ring.decrypt_json(stored)
"""

from __future__ import annotations

from tether.secrets._keyring import KEY_FILE_NAME, DecryptionFailed, KeyRing
from tether.secrets._redact import REDACTED, RedactingFilter, redact, secret_forms
from tether.secrets._sealed import (
    SEALED_PREFIX,
    SealError,
    generate_key_pair,
    is_sealed,
    open_sealed,
    public_key_of,
    seal,
    unwrap_private_key,
    wrap_private_key,
)

__all__ = [
    "KEY_FILE_NAME",
    "REDACTED",
    "SEALED_PREFIX",
    "DecryptionFailed",
    "KeyRing",
    "RedactingFilter",
    "SealError",
    "generate_key_pair",
    "is_sealed",
    "open_sealed",
    "public_key_of",
    "redact",
    "seal",
    "secret_forms",
    "unwrap_private_key",
    "wrap_private_key",
]
