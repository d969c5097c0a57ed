"""The tokens an OAuth provider issues, as one small immutable value."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final

__all__ = ["DEFAULT_EXPIRY_SKEW", "DEFAULT_REFRESH_WINDOW", "TokenSet"]

# Refresh this long before the provider's expiry, so a request never leaves with a token that dies in flight.
DEFAULT_EXPIRY_SKEW: Final = timedelta(seconds=60)
# The longest a token is refreshed ahead of its expiry; short-lived tokens use half their lifetime instead,
# or a 30 s token would be "due" from the moment it is issued and every call would refresh it.
DEFAULT_REFRESH_WINDOW: Final = timedelta(minutes=5)
# A token with less than this left (or a tenth of its lifetime, if shorter) is not sent any more.
_IN_FLIGHT_MARGIN: Final = timedelta(seconds=5)
# Response fields TokenSet models itself; id_token is dropped on purpose (a credential nobody here needs).
_MODELLED: Final = frozenset(
    {"access_token", "refresh_token", "token_type", "expires_in", "expires_at", "scope", "id_token"}
)


@dataclasses.dataclass(frozen=True)
class TokenSet:
    """An access token with what is needed to use and renew it.

    ``expires_at`` is an aware UTC datetime, or ``None`` when the provider said nothing about expiry
    (GitHub OAuth apps without token expiration): such a token is used until the API answers 401.
    ``extra`` keeps the provider's other scalar fields that callers need (Salesforce ``instance_url``,
    Slack ``team_id``); nested objects and ``id_token`` are dropped. Tokens never appear in ``repr``.
    ``issued_at`` (when Tether received it) gives the token's lifetime, which sets when to renew it.
    """

    access_token: str = dataclasses.field(repr=False)
    refresh_token: str | None = dataclasses.field(default=None, repr=False)
    token_type: str = "Bearer"
    expires_at: datetime | None = None
    scope: str | None = None
    extra: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    issued_at: datetime | None = None

    @classmethod
    def from_response(cls, data: Mapping[str, Any], *, now: datetime | None = None) -> TokenSet:
        """Build from a token endpoint's JSON (``expires_in`` seconds, or an absolute ``expires_at``)."""
        issued = now or datetime.now(UTC)
        expires_at: datetime | None = None
        if _number(data.get("expires_in")) is not None:
            expires_at = issued + timedelta(seconds=float(data["expires_in"]))
        elif _number(data.get("expires_at")) is not None:
            expires_at = datetime.fromtimestamp(float(data["expires_at"]), UTC)
        scope = data.get("scope")
        if isinstance(scope, list):
            scope = " ".join(str(s) for s in scope)
        extra = {
            k: v for k, v in data.items() if k not in _MODELLED and isinstance(v, str | int | float | bool)
        }
        return cls(
            access_token=str(data["access_token"]),
            refresh_token=str(data["refresh_token"]) if data.get("refresh_token") else None,
            token_type=str(data.get("token_type") or "Bearer"),
            expires_at=expires_at,
            scope=str(scope) if scope else None,
            extra=extra,
            issued_at=issued,
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TokenSet:
        """The inverse of :meth:`to_dict` (for tokens read back from storage)."""
        expires = data.get("expires_at")
        issued = data.get("issued_at")
        return cls(
            access_token=str(data["access_token"]),
            refresh_token=data.get("refresh_token"),
            token_type=str(data.get("token_type") or "Bearer"),
            expires_at=datetime.fromisoformat(expires) if isinstance(expires, str) else None,
            scope=data.get("scope"),
            extra=dict(data.get("extra") or {}),
            issued_at=datetime.fromisoformat(issued) if isinstance(issued, str) else None,
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (encrypt it before storing: it holds the tokens)."""
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "token_type": self.token_type,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "scope": self.scope,
            "extra": dict(self.extra),
            "issued_at": self.issued_at.isoformat() if self.issued_at else None,
        }

    def expires_soon(
        self, skew: timedelta | float = DEFAULT_EXPIRY_SKEW, *, now: datetime | None = None
    ) -> bool:
        """Whether the token expires within ``skew`` (a timedelta or seconds); never for unknown expiry."""
        if self.expires_at is None:
            return False
        margin = skew if isinstance(skew, timedelta) else timedelta(seconds=skew)
        return (now or datetime.now(UTC)) + margin >= self.expires_at

    def lifetime(self) -> timedelta | None:
        """How long the token was valid for when issued (``None`` when either end is unknown)."""
        if self.expires_at is None or self.issued_at is None:
            return None
        return max(self.expires_at - self.issued_at, timedelta(0))

    def refresh_window(self, longest: timedelta = DEFAULT_REFRESH_WINDOW) -> timedelta:
        """How long before expiry to renew: ``min(longest, half the lifetime)``.

        A token of unknown lifetime (stored before ``issued_at`` was kept) uses ``longest``.
        """
        lifetime = self.lifetime()
        return longest if lifetime is None else min(longest, lifetime / 2)

    def refresh_due(
        self, longest: timedelta = DEFAULT_REFRESH_WINDOW, *, now: datetime | None = None
    ) -> bool:
        """Whether it is time to renew (inside :meth:`refresh_window`); never for unknown expiry."""
        return self.expires_soon(self.refresh_window(longest), now=now)

    def usable(self, *, now: datetime | None = None) -> bool:
        """Whether a request may still leave with this token (unknown expiry: until an API says no).

        Used when a renewal failed: the current token keeps serving calls until it is about to die.
        """
        lifetime = self.lifetime()
        margin = _IN_FLIGHT_MARGIN if lifetime is None else min(_IN_FLIGHT_MARGIN, lifetime / 10)
        return not self.expires_soon(margin, now=now)

    def with_refresh_token_from(self, previous: TokenSet) -> TokenSet:
        """This token set, keeping ``previous``'s refresh token when the provider sent no new one."""
        if self.refresh_token or not previous.refresh_token:
            return self
        return dataclasses.replace(self, refresh_token=previous.refresh_token)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None
