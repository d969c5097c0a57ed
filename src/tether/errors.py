"""Tether's exception tree.

Every error a user can cause or meet is a ``TetherError`` with a stable ``code`` (used in
problem+json ``type`` URIs, CLI output and tests) and a ``retryable`` flag. The message is
for people: it says what went wrong, where, and how to fix it. Internal detail stays in
``__cause__`` (raise ... from exc) and never carries a secret.

    TetherError
    ├── InputError                  bad input from a user (exit code 2, HTTP 400/422)
    │   ├── DocumentSyntaxError     JSON/YAML that cannot be read, with file:line:column
    │   ├── PackageError            a connector package that is incomplete or inconsistent
    │   ├── LimitExceeded           input past a safety limit (depth, aliases, time, memory)
    │   │   └── InputTooLarge       input bigger than its byte cap (HTTP 413)
    │   └── ValidationFailed        input parsed but breaks a rule (carries findings/issues)
    ├── AuthError                   not authenticated (HTTP 401)
    ├── PermissionDenied            authenticated but not allowed (HTTP 403)
    ├── NotFound                    does not exist, or is hidden from the caller (HTTP 404)
    ├── Conflict                    clashes with the current state (HTTP 409)
    ├── PreconditionFailed          an If-Match that no longer matches (HTTP 412)
    └── ConfigurationError          the server or CLI is set up wrongly
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "AuthError",
    "ConfigurationError",
    "Conflict",
    "DocumentSyntaxError",
    "InputError",
    "InputTooLarge",
    "LimitExceeded",
    "NotFound",
    "PackageError",
    "PermissionDenied",
    "PreconditionFailed",
    "TetherError",
    "ValidationFailed",
]


class TetherError(Exception):
    """Base class of every error Tether raises on purpose."""

    code: ClassVar[str] = "tether-error"
    status: ClassVar[int] = 500
    retryable: ClassVar[bool] = False

    def __init__(self, message: str, *, detail: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        # Extra machine-readable facts (file, line, pointer...) for API and --json output.
        self.detail: dict[str, Any] = detail or {}


class InputError(TetherError):
    """The user gave input Tether cannot use."""

    code = "invalid-input"
    status = 400


class DocumentSyntaxError(InputError):
    """A JSON or YAML document is not readable, even leniently.

    ``file``, ``line`` and ``column`` (1-based) point at the problem and ``excerpt`` shows the
    text around it, so the message reads like a compiler's.
    """

    code = "document-syntax"

    def __init__(self, reason: str, *, file: str, line: int, column: int, excerpt: str = "") -> None:
        location = f"{file}:{line}:{column}"
        message = f"{location}: {reason}"
        if excerpt:
            message += f"\n{excerpt}"
        super().__init__(message, detail={"file": file, "line": line, "column": column, "reason": reason})
        self.file, self.line, self.column, self.reason, self.excerpt = file, line, column, reason, excerpt


class PackageError(InputError):
    """A connector package is missing a file or mixes incompatible parts."""

    code = "invalid-package"


class LimitExceeded(InputError):
    """Input went past one of the limits that keep hostile files from exhausting the server.

    Nesting depth, YAML alias expansion, ``$ref`` expansion, parse time and parse memory are
    bounded (``tether.definition`` names every limit); the message names the limit, its value
    and how to bring the input under it. ``detail["limit"]`` is the limit's stable name.
    """

    code = "limit-exceeded"

    def __init__(self, message: str, *, limit: str, value: int | float, **detail: Any) -> None:
        super().__init__(message, detail={"limit": limit, "value": value, **detail})
        self.limit, self.value = limit, value


class InputTooLarge(LimitExceeded):
    """Input is bigger than its byte cap (a request body, a file, a zip member)."""

    code = "too-large"
    status = 413


class ValidationFailed(InputError):
    """Input was readable but breaks rules; ``issues`` lists every problem found."""

    code = "validation-failed"
    status = 422

    def __init__(self, message: str, *, issues: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message, detail={"issues": issues or []})
        self.issues = issues or []


class AuthError(TetherError):
    """The caller is not authenticated (no token, a bad one, or a revoked one)."""

    code = "unauthenticated"
    status = 401


class PermissionDenied(TetherError):
    """The caller is known but their role does not allow this."""

    code = "forbidden"
    status = 403


class NotFound(TetherError):
    """The thing does not exist, or the caller may not know it exists."""

    code = "not-found"
    status = 404


class Conflict(TetherError):
    """The request clashes with the current state (a duplicate name, a stale revision...)."""

    code = "conflict"
    status = 409


class PreconditionFailed(TetherError):
    """The caller's ``If-Match`` names a version that is no longer current: someone saved in between.

    ``detail`` says who changed it and when where that is known (``changed_by``, the user name;
    ``changed_by_name``, their display name; ``changed_at``), and the current ``etag``, so a client
    can reload, merge and try again instead of overwriting.
    """

    code = "precondition-failed"
    status = 412


class ConfigurationError(TetherError):
    """Tether itself is configured wrongly (bad database URL, unreadable key file...)."""

    code = "configuration"
    status = 500
