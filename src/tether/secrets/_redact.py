"""Keep secret values out of log lines.

Secrets are kept out of messages by construction (reprs mask them, errors never include them), but a
third-party library may still log a URL with an API key in its query string or a header dump. These
helpers are the last line of defence: :func:`redact` masks known values in a string, and
:class:`RedactingFilter` does it for every record passing through a logging handler.
"""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Iterable
from typing import Final
from urllib.parse import quote, quote_plus

__all__ = ["REDACTED", "RedactingFilter", "redact", "secret_forms"]

REDACTED: Final = "***"


def secret_forms(secrets: Iterable[str], *, min_length: int = 1) -> tuple[str, ...]:
    """Each secret as written, base64-encoded (a Basic header) and URL-encoded (a key in a query
    string): the forms it travels in, of at least ``min_length`` characters. Longest first, so a
    secret inside a longer one never leaves half of the longer one visible. Log redaction and run
    history masking both use these forms."""
    forms: set[str] = set()
    for secret in secrets:
        if not secret:
            continue
        raw = secret.encode()
        encoded = base64.b64encode(raw).decode()
        forms.update(
            {
                secret,
                encoded,
                encoded.rstrip("="),
                base64.urlsafe_b64encode(raw).decode().rstrip("="),
                quote(secret, safe=""),
                quote_plus(secret, safe=""),
            }
        )
    return tuple(sorted((f for f in forms if len(f) >= min_length), key=len, reverse=True))


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of each secret (and its encoded forms) replaced by ``***``.

    Longer secrets are replaced first, so a secret that contains another is masked whole.
    Empty strings are ignored.
    """
    for form in secret_forms(secrets):
        text = text.replace(form, REDACTED)
    return text


class RedactingFilter(logging.Filter):
    """A logging filter that masks registered secret values in every record it sees.

    Attach it to handlers (not loggers: a logger's filters do not apply to records from its children).
    The runtime registers a connection's secrets while it uses them and may unregister them afterwards.

        redactor = RedactingFilter()
        handler.addFilter(redactor)
        redactor.register(api_key)
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._secrets: set[str] = {s for s in secrets if s}

    def register(self, *secrets: str) -> None:
        """Mask these values from now on (empty values are ignored)."""
        with self._lock:
            self._secrets.update(s for s in secrets if s)

    def unregister(self, *secrets: str) -> None:
        """Stop masking these values."""
        with self._lock:
            self._secrets.difference_update(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message (and formatted traceback) with secrets masked; never drops it."""
        with self._lock:
            secrets = tuple(self._secrets)
        if not secrets:
            return True
        message = record.getMessage()
        cleaned = redact(message, secrets)
        if cleaned != message:
            # Freeze the formatted message: the args may hold the secret, so they cannot be kept.
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, secrets)
        return True

    def __repr__(self) -> str:
        return f"RedactingFilter(secrets={len(self._secrets)})"
