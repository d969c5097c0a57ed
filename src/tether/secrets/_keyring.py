"""Encryption at rest for connection secrets, with key rotation.

Tether stores API keys, passwords and OAuth tokens encrypted with Fernet (AES-128-CBC + HMAC-SHA256
from ``cryptography``): an authenticated format with a maintained implementation, so nothing here is
home-made crypto. Several keys may be live at once through ``MultiFernet``: the first (primary) key
encrypts, every key decrypts, which is what makes rotation safe. After :meth:`KeyRing.rotate`, old
ciphertexts keep working and :meth:`KeyRing.reencrypt` moves them to the new key at leisure.

Where the keys come from, in order:

1. ``TETHER_MASTER_KEY`` (``Settings.master_key``): one or more Fernet keys separated by commas,
   primary first. Operators who keep keys in a secret manager use this; rotation then means setting
   ``new,old`` and restarting, because a process cannot rewrite its environment.
2. ``<home>/master.key``: one key per line, primary first, created on first use with mode 0600.
   A key file that group or others may read is refused: a leaked key decrypts every connection.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
import threading
from pathlib import Path
from typing import Any, Final, Protocol

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from tether.errors import ConfigurationError, TetherError

__all__ = ["KEY_FILE_NAME", "DecryptionFailed", "KeyRing"]

KEY_FILE_NAME: Final = "master.key"
# Group/other permission bits: any of them on the key file means someone else may read or swap it.
_SHARED_BITS: Final = stat.S_IRWXG | stat.S_IRWXO


class _SecretLike(Protocol):
    def get_secret_value(self) -> str: ...


class _SettingsLike(Protocol):
    """What :meth:`KeyRing.from_settings` reads; ``tether.config.Settings`` fits (not imported: layers)."""

    @property
    def home(self) -> Path: ...

    @property
    def master_key(self) -> _SecretLike | None: ...


class DecryptionFailed(TetherError):
    """A stored secret cannot be decrypted: it was tampered with, or was made with a key Tether no longer has.

    The usual cause is a lost or replaced ``master.key`` / ``TETHER_MASTER_KEY``; the fix is to restore
    the old key (it may be listed after the new one) or to re-create the affected connections.
    """

    code = "decryption-failed"
    status = 500


class KeyRing:
    """The keys that encrypt secrets at rest: encrypt with the primary key, decrypt with any.

    Build it with :meth:`from_settings` (environment key or key file) or :meth:`from_keys` (tests,
    tools). Keys are loaded lazily, on the first encryption or decryption, so commands that never touch
    a secret never create a key file. Thread-safe.

        ring = KeyRing.from_settings(settings)
        token = ring.encrypt("s3cret")
        ring.decrypt_text(token)  # "s3cret"
    """

    def __init__(
        self, *, path: Path | None = None, keys: list[bytes] | None = None, pinned: bool = False
    ) -> None:
        if (path is None) == (keys is None):
            raise ConfigurationError("a KeyRing needs exactly one of a key file path or a list of keys")
        self._path = path
        self._keys: list[bytes] | None = list(keys) if keys is not None else None
        if self._keys is not None:
            _validate_keys(self._keys, source="the given keys")
        # Pinned keys come from the environment: the process cannot persist a rotation there.
        self._pinned = pinned
        self._lock = threading.Lock()
        self._fernet: MultiFernet | None = None

    @classmethod
    def from_settings(cls, settings: _SettingsLike) -> KeyRing:
        """The key ring of this process: ``TETHER_MASTER_KEY`` if set, else ``home/master.key``."""
        master = getattr(settings, "master_key", None)
        if master is not None and master.get_secret_value().strip():
            keys = [k.strip().encode() for k in master.get_secret_value().split(",") if k.strip()]
            _validate_keys(keys, source="TETHER_MASTER_KEY")
            return cls(keys=keys, pinned=True)
        return cls(path=Path(settings.home) / KEY_FILE_NAME)

    @classmethod
    def from_keys(cls, *keys: str | bytes) -> KeyRing:
        """A key ring held in memory only (primary key first); :meth:`rotate` keeps it in memory."""
        return cls(keys=[k.encode() if isinstance(k, str) else k for k in keys])

    @staticmethod
    def generate_key() -> str:
        """A fresh random key in the format ``TETHER_MASTER_KEY`` and the key file use."""
        return Fernet.generate_key().decode()

    # -- encryption -------------------------------------------------------------------------------

    def encrypt(self, data: bytes | str) -> str:
        """Encrypt ``data`` (text is UTF-8 encoded) with the primary key; the result is URL-safe text."""
        raw = data.encode() if isinstance(data, str) else data
        return self._multi().encrypt(raw).decode("ascii")

    def decrypt(self, token: str) -> bytes:
        """Decrypt a token made by any key on the ring; :class:`DecryptionFailed` if none fits."""
        try:
            return self._multi().decrypt(token.encode("ascii"))
        except (InvalidToken, UnicodeEncodeError) as exc:
            raise DecryptionFailed(
                "a stored secret could not be decrypted: it was changed, or made with a key this server "
                "no longer has (restore the old master key, or re-create the connection)"
            ) from exc

    def decrypt_text(self, token: str) -> str:
        """:meth:`decrypt`, then UTF-8 decode: for secrets that were encrypted as text."""
        return self.decrypt(token).decode()

    def encrypt_json(self, obj: Any) -> str:
        """Encrypt a JSON-serialisable value (an OAuth token set, a parameter dict) as one token."""
        return self.encrypt(json.dumps(obj, separators=(",", ":"), sort_keys=True))

    def decrypt_json(self, token: str) -> Any:
        """Decrypt a token made by :meth:`encrypt_json` back into the value."""
        return json.loads(self.decrypt(token))

    # -- rotation ---------------------------------------------------------------------------------

    def rotate(self) -> None:
        """Add a new primary key and persist it; older keys stay on the ring so old tokens still decrypt.

        Raises ``ConfigurationError`` when the keys come from ``TETHER_MASTER_KEY``: the process cannot
        change its environment, so the operator sets ``TETHER_MASTER_KEY=<new>,<old>`` instead.
        """
        with self._lock:
            keys = self._load()
            if self._pinned:
                raise ConfigurationError(
                    "the master key comes from TETHER_MASTER_KEY; rotate it by setting "
                    "TETHER_MASTER_KEY=<new key>,<old keys...> (make one with KeyRing.generate_key())"
                )
            new_keys = [Fernet.generate_key(), *keys]
            if self._path is not None:
                _write_key_file(self._path, new_keys, replace=True)
            self._keys = new_keys
            self._fernet = MultiFernet([Fernet(k) for k in new_keys])

    def reencrypt(self, token: str) -> str:
        """Decrypt ``token`` with any key and encrypt it again with the primary key."""
        try:
            return self._multi().rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeEncodeError) as exc:
            raise DecryptionFailed(
                "a stored secret could not be re-encrypted: no key on the ring fits"
            ) from exc

    def is_current(self, token: str) -> bool:
        """Whether ``token`` is encrypted with the primary key (so :meth:`reencrypt` has nothing to do)."""
        primary = Fernet(self._load_locked()[0])
        try:
            primary.decrypt(token.encode("ascii"))
        except (InvalidToken, UnicodeEncodeError):
            return False
        return True

    @property
    def key_count(self) -> int:
        """How many keys are on the ring (1 until the first rotation)."""
        return len(self._load_locked())

    def __repr__(self) -> str:
        source = f"file={str(self._path)!r}" if self._path is not None else "source='memory'"
        return f"KeyRing({source})"

    # -- internals --------------------------------------------------------------------------------

    def _multi(self) -> MultiFernet:
        with self._lock:
            if self._fernet is None:
                self._fernet = MultiFernet([Fernet(k) for k in self._load()])
            return self._fernet

    def _load_locked(self) -> list[bytes]:
        with self._lock:
            return self._load()

    def _load(self) -> list[bytes]:
        if self._keys is None and self._path is not None:
            self._keys = _read_or_create(self._path)
        return self._keys or []


def _validate_keys(keys: list[bytes], *, source: str) -> None:
    if not keys:
        raise ConfigurationError(f"{source} holds no key")
    for index, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError) as exc:
            # Never echo the key: say which one is wrong and what a right one looks like.
            raise ConfigurationError(
                f"{source}: key #{index} is not a Fernet key (32 url-safe base64-encoded bytes); "
                "make one with KeyRing.generate_key()"
            ) from exc


def _read_or_create(path: Path) -> list[bytes]:
    try:
        return _read_key_file(path)
    except FileNotFoundError:
        pass
    # If another process created it first, FileExistsError: use theirs.
    with contextlib.suppress(FileExistsError):
        _write_key_file(path, [Fernet.generate_key()], replace=False)
    return _read_key_file(path)


def _read_key_file(path: Path) -> list[bytes]:
    info = path.stat()
    if os.name == "posix" and info.st_mode & _SHARED_BITS:
        raise ConfigurationError(
            f"{path}: the master key file may be read by other users (mode {stat.filemode(info.st_mode)}); "
            f"run 'chmod 600 {path}' if nobody else has read it, otherwise treat the key as leaked"
        )
    keys = [line.strip().encode() for line in path.read_text().splitlines() if line.strip()]
    _validate_keys(keys, source=str(path))
    return keys


def _write_key_file(path: Path, keys: list[bytes], *, replace: bool) -> None:
    """Write keys atomically with mode 0600: a crash never leaves a half-written or readable key file."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp_name = tempfile.mkstemp(prefix=".master.key.", dir=path.parent)  # mkstemp uses mode 0600
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(b"\n".join(keys) + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # fails with FileExistsError when another process won the race
    finally:
        tmp.unlink(missing_ok=True)
