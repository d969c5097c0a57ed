"""tether.secrets' public names are pinned (the connections service codes against them)."""

from __future__ import annotations

import tether.secrets

EXPECTED = [
    "KEY_FILE_NAME", "REDACTED", "DecryptionFailed", "KeyRing", "RedactingFilter", "redact", "secret_forms",
    "SEALED_PREFIX", "SealError", "generate_key_pair", "is_sealed", "open_sealed", "public_key_of", "seal",
    "unwrap_private_key", "wrap_private_key",
]  # fmt: skip


def test_public_names_are_pinned() -> None:
    assert sorted(tether.secrets.__all__) == sorted(EXPECTED)
    for name in tether.secrets.__all__:
        assert hasattr(tether.secrets, name), name
