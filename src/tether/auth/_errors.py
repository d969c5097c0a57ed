"""Errors of the auth layer: what an OAuth provider refused, and consent state that cannot be trusted.

TetherError
└── OAuthError                      the provider refused (its ``error`` and ``error_description``)
    ├── InvalidState                a consent ``state`` that was tampered with or is not ours
    │   └── ExpiredState            a genuine ``state`` that is too old
    └── TokenEndpointUnreachable    no usable answer from the token endpoint (HTTP 502)
        └── TokenEndpointTimeout    no answer in time (HTTP 504)
"""

from __future__ import annotations

from typing import Any

from tether.errors import TetherError

__all__ = [
    "ExpiredState",
    "InvalidState",
    "OAuthError",
    "TokenEndpointTimeout",
    "TokenEndpointUnreachable",
]


class OAuthError(TetherError):
    """An OAuth 2.0 step failed: the provider refused it or could not be reached.

    ``error`` is the provider's RFC 6749 code (``invalid_grant``, ``invalid_client``...) or one of ours
    (``http_error``, ``unreachable``, ``invalid_response``); ``error_description`` is the provider's own
    explanation. Neither ever holds a secret, a code or a token: provider messages are quoted, request
    bodies are not.
    """

    code = "oauth-error"
    status = 400

    def __init__(
        self,
        message: str,
        *,
        error: str = "oauth_error",
        error_description: str | None = None,
        provider: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        facts = {"error": error, "error_description": error_description, "provider": provider}
        super().__init__(message, detail={**facts, **(detail or {})})
        self.error = error
        self.error_description = error_description
        self.provider = provider

    @classmethod
    def from_provider(
        cls, step: str, *, error: str, error_description: str | None, provider: str | None
    ) -> OAuthError:
        """The error for a provider's refusal, for people (``token exchange refused by github: ...``)."""
        who = f" by {provider}" if provider else ""
        reason = f"{error}: {error_description}" if error_description else error
        return cls(
            f"{step} refused{who}: {reason}",
            error=error,
            error_description=error_description,
            provider=provider,
        )


class InvalidState(OAuthError):
    """The ``state`` returned to the redirect endpoint was not signed by this server (or was altered).

    Treat it as an attack: do not exchange the code, tell the user to start the sign-in again.
    """

    code = "invalid-state"

    def __init__(self, message: str = "the sign-in state is invalid; start the connection again") -> None:
        super().__init__(message, error="invalid_state")


class ExpiredState(InvalidState):
    """The ``state`` is genuine but older than allowed: the user took too long to consent."""

    code = "expired-state"

    def __init__(
        self, message: str = "the sign-in took too long and expired; start the connection again"
    ) -> None:
        super().__init__(message)
        self.error = "expired_state"
        self.detail["error"] = "expired_state"


class TokenEndpointUnreachable(OAuthError):
    """The token endpoint gave no usable answer: refused, reset, or a server error (HTTP 502).

    Says nothing about the grant, so it never marks a connection as needing a new sign-in.
    ``outcome_unknown`` is true when the request may have reached the provider (a reset after
    sending, a gateway error): with rotating refresh tokens the provider may have spent the
    refresh token, so the caller must not blindly send it again.
    """

    code = "token-endpoint-unreachable"
    status = 502
    retryable = True

    def __init__(
        self,
        message: str,
        *,
        error: str = "unreachable",
        provider: str | None = None,
        outcome_unknown: bool = False,
    ) -> None:
        super().__init__(message, error=error, provider=provider, detail={"outcome_unknown": outcome_unknown})
        self.outcome_unknown = outcome_unknown


class TokenEndpointTimeout(TokenEndpointUnreachable):
    """The token endpoint did not answer in time (HTTP 504): the request was sent, its outcome is unknown."""

    code = "token-endpoint-timeout"
    status = 504

    def __init__(self, message: str, *, provider: str | None = None) -> None:
        super().__init__(message, error="timeout", provider=provider, outcome_unknown=True)
