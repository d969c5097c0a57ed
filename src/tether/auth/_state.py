"""The OAuth ``state`` parameter: a signed, expiring note saying which consent a redirect belongs to.

The state travels through the user's browser and the provider, so it is signed (itsdangerous'
``URLSafeTimedSerializer``: HMAC-SHA1 over a timestamped payload, with a key derived per purpose) and
checked on return. Signing proves *we* made it and *when*; it cannot prove it is used only once. The
caller enforces single use: store the ``nonce`` with the pending consent and delete it (or mark it used)
in the same transaction that accepts the redirect, refusing a nonce that is not there.
"""

from __future__ import annotations

import dataclasses
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from tether.auth._errors import ExpiredState, InvalidState

__all__ = ["DEFAULT_STATE_MAX_AGE", "ConsentState", "StateSigner", "make_nonce"]

DEFAULT_STATE_MAX_AGE: Final = timedelta(minutes=10)
_SALT: Final = "tether.oauth.state"


def make_nonce() -> str:
    """A random single-use value (32 bytes, URL-safe) to store with a pending consent."""
    return secrets.token_urlsafe(32)


@dataclasses.dataclass(frozen=True)
class ConsentState:
    """What a signed state carries: whose consent it is and until when it may be used."""

    consent_id: str
    user_id: str
    nonce: str
    expires_at: datetime


class StateSigner:
    """Signs and verifies consent states with the server's secret key.

    signer = StateSigner(secret_key)
    state = signer.sign(consent_id="c1", user_id="u1", nonce=make_nonce())
    payload = signer.verify(state)   # InvalidState / ExpiredState on failure
    """

    def __init__(self, secret_key: str | bytes, *, max_age: timedelta = DEFAULT_STATE_MAX_AGE) -> None:
        if not secret_key:
            raise ValueError("StateSigner needs a non-empty secret key")
        self._serializer = URLSafeTimedSerializer(secret_key, salt=_SALT)
        self._max_age = max_age

    def sign(self, *, consent_id: str, user_id: str, nonce: str, expires_at: datetime | None = None) -> str:
        """A URL-safe state string for the authorization URL."""
        expires = expires_at or datetime.now(UTC) + self._max_age
        payload = {"c": consent_id, "u": user_id, "n": nonce, "e": int(expires.timestamp())}
        return str(self._serializer.dumps(payload))

    def verify(self, state: str, max_age: timedelta | float | None = None) -> ConsentState:
        """The payload of a state we signed; raises :class:`InvalidState` or :class:`ExpiredState`.

        Both the signature's age (``max_age``, default the signer's) and the payload's own
        ``expires_at`` are checked, so a state signed for a shorter life cannot be stretched.
        """
        limit = self._max_age if max_age is None else max_age
        seconds = limit.total_seconds() if isinstance(limit, timedelta) else float(limit)
        try:
            # itsdangerous annotates max_age as int but only compares it with the age: a float works.
            data: Any = self._serializer.loads(state, max_age=seconds)  # type: ignore[arg-type]
        except SignatureExpired as exc:
            raise ExpiredState() from exc
        except BadSignature as exc:
            raise InvalidState() from exc
        if not isinstance(data, dict) or not {"c", "u", "n", "e"} <= data.keys():
            raise InvalidState()
        expires_at = datetime.fromtimestamp(int(data["e"]), UTC)
        if datetime.now(UTC) >= expires_at:
            raise ExpiredState()
        return ConsentState(
            consent_id=str(data["c"]), user_id=str(data["u"]), nonce=str(data["n"]), expires_at=expires_at
        )

    def __repr__(self) -> str:
        return f"StateSigner(max_age={self._max_age})"
