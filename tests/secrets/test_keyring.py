"""KeyRing: key file creation and permissions, environment keys, rotation, re-encryption."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from tether.config import load_settings
from tether.errors import ConfigurationError
from tether.secrets import KEY_FILE_NAME, DecryptionFailed, KeyRing


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def test_key_file_is_created_on_first_use_with_mode_0600(home: Path) -> None:
    ring = KeyRing.from_settings(load_settings(home=home))
    assert not (home / KEY_FILE_NAME).exists()  # lazily: commands that never encrypt make no key
    token = ring.encrypt("s3cret")
    info = (home / KEY_FILE_NAME).stat()
    assert stat.S_IMODE(info.st_mode) == 0o600
    assert ring.decrypt_text(token) == "s3cret"
    # A second process reading the same home decrypts it.
    assert KeyRing.from_settings(load_settings(home=home)).decrypt(token) == b"s3cret"


@pytest.mark.parametrize("mode", [pytest.param(0o644, id="world-readable"), pytest.param(0o640, id="group")])
def test_key_file_readable_by_others_is_refused(home: Path, mode: int) -> None:
    KeyRing.from_settings(load_settings(home=home)).encrypt("x")
    os.chmod(home / KEY_FILE_NAME, mode)
    with pytest.raises(ConfigurationError, match="chmod 600") as info:
        KeyRing.from_settings(load_settings(home=home)).encrypt("x")
    assert (home / KEY_FILE_NAME).read_text().split()[0] not in info.value.message


def test_rotation_keeps_old_tokens_decryptable_and_persists(home: Path) -> None:
    ring = KeyRing.from_settings(load_settings(home=home))
    old = ring.encrypt(b"old secret")
    assert ring.is_current(old)
    ring.rotate()
    assert ring.key_count == 2
    assert not ring.is_current(old)
    assert ring.decrypt(old) == b"old secret"
    new = ring.reencrypt(old)
    assert ring.is_current(new) and ring.decrypt(new) == b"old secret"
    reloaded = KeyRing.from_settings(load_settings(home=home))
    assert reloaded.key_count == 2 and reloaded.is_current(new) and reloaded.decrypt(old) == b"old secret"
    assert stat.S_IMODE((home / KEY_FILE_NAME).stat().st_mode) == 0o600


def test_environment_key_is_used_and_cannot_be_rotated_in_process(home: Path) -> None:
    new, old = KeyRing.generate_key(), KeyRing.generate_key()
    token_from_old = KeyRing.from_keys(old).encrypt("v")
    ring = KeyRing.from_settings(load_settings(home=home, master_key=SecretStr(f"{new},{old}")))
    assert ring.decrypt_text(token_from_old) == "v"
    assert not ring.is_current(token_from_old) and ring.is_current(ring.reencrypt(token_from_old))
    assert not (home / KEY_FILE_NAME).exists()
    with pytest.raises(ConfigurationError, match="TETHER_MASTER_KEY=<new key>"):
        ring.rotate()


def test_bad_environment_key_is_named_without_echoing_it(home: Path) -> None:
    with pytest.raises(ConfigurationError, match="key #1 is not a Fernet key") as info:
        KeyRing.from_settings(load_settings(home=home, master_key=SecretStr("not-a-key-value")))
    assert "not-a-key-value" not in str(info.value)


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("garbage", id="garbage"),
        pytest.param("gAAAAAB" + "A" * 80, id="forged"),
        pytest.param("é", id="non-ascii"),
    ],
)
def test_undecryptable_tokens_raise_decryption_failed(token: str) -> None:
    with pytest.raises(DecryptionFailed) as info:
        KeyRing.from_keys(KeyRing.generate_key()).decrypt(token)
    assert info.value.code == "decryption-failed"


def test_token_from_another_key_fails() -> None:
    token = KeyRing.from_keys(KeyRing.generate_key()).encrypt("x")
    with pytest.raises(DecryptionFailed):
        KeyRing.from_keys(KeyRing.generate_key()).decrypt(token)


def test_json_round_trip() -> None:
    ring = KeyRing.from_keys(KeyRing.generate_key())
    value = {"access_token": "a", "nested": [1, 2, {"x": None}]}
    token = ring.encrypt_json(value)
    assert "access_token" not in token
    assert ring.decrypt_json(token) == value


def test_repr_shows_no_key(home: Path) -> None:
    key = KeyRing.generate_key()
    assert key not in repr(KeyRing.from_keys(key))
    ring = KeyRing.from_settings(load_settings(home=home))
    ring.encrypt("x")
    assert (home / KEY_FILE_NAME).read_text().strip() not in repr(ring)
    assert "master.key" in repr(ring)


def test_concurrent_first_use_agrees_on_one_key(home: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    settings = load_settings(home=home)
    rings = [KeyRing.from_settings(settings) for _ in range(8)]
    with ThreadPoolExecutor(8) as pool:
        tokens = list(pool.map(lambda r: r.encrypt("same"), rings))
    for ring in rings:
        assert all(ring.decrypt_text(t) == "same" for t in tokens)
