"""Sealed values: secrets encrypted to a gateway cluster's public key, readable only by its agents.

A connection that goes through an on-premises gateway keeps its secret parameter values sealed
to the cluster's X25519 public key (an ECIES "sealed box": a fresh ephemeral key per value,
HKDF-SHA256, AES-256-GCM, all from ``cryptography``). The Tether server stores and relays the
sealed strings but holds no key that opens them; the agents do.

The cluster's private key is kept by each agent, and also on the server *wrapped* under a key
derived from the cluster's recovery key with scrypt, so a new agent of the cluster (given the
recovery key by the gateway's admin) recovers it, while the server, which never sees the
recovery key, still cannot.

    private, public = generate_key_pair()
    sealed = seal(public, b"s3cret")          # "tg1.…"
    open_sealed(private, sealed) == b"s3cret"
"""

from __future__ import annotations

import base64
import os
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from tether.errors import InputError, TetherError

__all__ = [
    "SEALED_PREFIX",
    "SealError",
    "generate_key_pair",
    "is_sealed",
    "open_sealed",
    "public_key_of",
    "seal",
    "unwrap_private_key",
    "wrap_private_key",
]

# Versioned prefixes: a sealed value and a wrapped private key say what they are.
SEALED_PREFIX: Final = "tg1."
_WRAPPED_PREFIX: Final = "tgk1."
_INFO: Final = b"tether-gateway-seal-v1"
_KEY_BYTES: Final = 32
_NONCE_BYTES: Final = 12
_SALT_BYTES: Final = 16
# scrypt cost (RFC 7914 §2 interactive-login figures): ~50 ms here, paid once per registration.
_SCRYPT_N: Final = 2**15
_SCRYPT_R: Final = 8
_SCRYPT_P: Final = 1
_MIN_RECOVERY_KEY: Final = 12


class SealError(TetherError):
    """A sealed value or wrapped key cannot be opened (wrong key, or altered on the way)."""

    code = "gateway-seal-error"
    status = 400


def generate_key_pair() -> tuple[bytes, str]:
    """A new cluster key pair: the raw private key (32 bytes) and the public key as base64 text."""
    private = X25519PrivateKey.generate()
    return _raw_private(private), _public_text(private.public_key())


def public_key_of(private_key: bytes) -> str:
    """The base64 public key that goes with a raw private key."""
    return _public_text(X25519PrivateKey.from_private_bytes(private_key).public_key())


def is_sealed(value: object) -> bool:
    """True for a string in the sealed format (what a client that sealed already sends)."""
    return isinstance(value, str) and value.startswith(SEALED_PREFIX)


def seal(public_key: str, plaintext: bytes) -> str:
    """``plaintext`` encrypted so that only the holder of ``public_key``'s private key reads it."""
    recipient = _public_key(public_key)
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = ephemeral.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    key = _derive(ephemeral.exchange(recipient), ephemeral_public, _raw_public(recipient))
    nonce = os.urandom(_NONCE_BYTES)
    box = AESGCM(key).encrypt(nonce, plaintext, ephemeral_public)
    return SEALED_PREFIX + base64.urlsafe_b64encode(ephemeral_public + nonce + box).decode("ascii")


def open_sealed(private_key: bytes, sealed: str) -> bytes:
    """The plaintext of ``sealed``; :class:`SealError` when it was not sealed to this key or was altered."""
    if not is_sealed(sealed):
        raise SealError("the value is not a sealed gateway value (it should start with 'tg1.')")
    try:
        raw = base64.urlsafe_b64decode(sealed[len(SEALED_PREFIX) :].encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise SealError("the sealed value is not valid base64") from exc
    if len(raw) < _KEY_BYTES + _NONCE_BYTES + 16:
        raise SealError("the sealed value is too short to be one")
    ephemeral_public, nonce, box = raw[:_KEY_BYTES], raw[_KEY_BYTES : _KEY_BYTES + _NONCE_BYTES], raw[44:]
    private = X25519PrivateKey.from_private_bytes(private_key)
    try:
        shared = private.exchange(X25519PublicKey.from_public_bytes(ephemeral_public))
        key = _derive(shared, ephemeral_public, _raw_public(private.public_key()))
        return AESGCM(key).decrypt(nonce, box, ephemeral_public)
    except (InvalidTag, ValueError) as exc:
        raise SealError(
            "the sealed value cannot be opened with this gateway's key: it was sealed to another "
            "cluster's key, or altered"
        ) from exc


def wrap_private_key(private_key: bytes, recovery_key: str) -> str:
    """The private key encrypted under a key derived from ``recovery_key`` (scrypt, AES-256-GCM)."""
    if len(recovery_key) < _MIN_RECOVERY_KEY:
        raise InputError(
            f"a gateway recovery key needs at least {_MIN_RECOVERY_KEY} characters; "
            "choose a long passphrase and keep it safe (it recovers the cluster's key)"
        )
    salt = os.urandom(_SALT_BYTES)
    nonce = os.urandom(_NONCE_BYTES)
    box = AESGCM(_stretch(recovery_key, salt)).encrypt(nonce, private_key, _WRAPPED_PREFIX.encode())
    return _WRAPPED_PREFIX + base64.urlsafe_b64encode(salt + nonce + box).decode("ascii")


def unwrap_private_key(wrapped: str, recovery_key: str) -> bytes:
    """The private key inside ``wrapped``; :class:`SealError` for a wrong recovery key."""
    if not wrapped.startswith(_WRAPPED_PREFIX):
        raise SealError("the wrapped gateway key is not in a known format")
    try:
        raw = base64.urlsafe_b64decode(wrapped[len(_WRAPPED_PREFIX) :].encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise SealError("the wrapped gateway key is not valid base64") from exc
    salt, nonce, box = raw[:_SALT_BYTES], raw[_SALT_BYTES : _SALT_BYTES + _NONCE_BYTES], raw[28:]
    try:
        return AESGCM(_stretch(recovery_key, salt)).decrypt(nonce, box, _WRAPPED_PREFIX.encode())
    except InvalidTag as exc:
        raise SealError(
            "the recovery key does not open this gateway cluster's key: use the recovery key given "
            "when the cluster's first agent was registered"
        ) from exc


def _stretch(recovery_key: str, salt: bytes) -> bytes:
    kdf = Scrypt(salt=salt, length=_KEY_BYTES, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P)
    return kdf.derive(recovery_key.encode("utf-8"))


def _derive(shared: bytes, ephemeral_public: bytes, recipient_public: bytes) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=_KEY_BYTES, salt=None, info=_INFO)
    return hkdf.derive(shared + ephemeral_public + recipient_public)


def _public_key(text: str) -> X25519PublicKey:
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
        return X25519PublicKey.from_public_bytes(raw)
    except (ValueError, UnicodeEncodeError) as exc:
        raise InputError("the gateway's public key is not a base64 X25519 key") from exc


def _raw_public(key: X25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _public_text(key: X25519PublicKey) -> str:
    return base64.b64encode(_raw_public(key)).decode("ascii")


def _raw_private(key: X25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
