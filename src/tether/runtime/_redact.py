"""Keeping secrets out of log lines.

The runtime logs every upstream request, and so does httpx (its ``httpx`` logger prints
the full URL, query string included). Three kinds of secret can appear: credential
headers (``Authorization``, ``api-key``...), query parameters named like credentials
(``?api_key=``, ``&sig=``), and the connection's own values (a password put in a path or
a body by a policy). ``Redactor`` masks all three in text; ``RedactingFilter`` applies it
to every record of the loggers it is attached to, using the secrets of the call being
made (a context variable, so concurrent calls never see each other's secrets).
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx

__all__ = [
    "MASK",
    "RedactingFilter",
    "Redactor",
    "install_log_redaction",
    "redacting",
]

MASK = "***"
# Header and query names whose values are credentials (matched case-insensitively, anywhere in the name).
_SECRET_NAME = re.compile(
    r"authorization|api[-_]?key|apikey|token|secret|passw(or)?d|pwd|signature|(^|[-_])sig$|"
    r"subscription[-_]key|cookie|credential|session|client[-_]assertion|code[-_]verifier",
    re.IGNORECASE,
)
# `name=value` pairs in free text (a URL printed in a message, a query string).
_PAIR = re.compile(r"(?P<name>[A-Za-z0-9_.\-\[\]]+)=(?P<value>[^&\s\"'<>;,]*)")
# Values shorter than this are not searched for in free text: masking every "1" or "en" in a
# line hides everything and protects nothing (such values are not secrets).
MIN_SECRET_LENGTH = 4
# Loggers whose records may carry request lines or headers. A logger's filters only see records
# logged on that very logger, not its children, so children are listed one by one (httpcore
# carries the other httpx clients: OAuth token requests, the flow Http action).
REDACTED_LOGGERS = (
    "tether.runtime", "httpx", "aiohttp.client", "aiohttp.internal", "httpcore", "httpcore.connection",
    "httpcore.http11", "httpcore.http2", "httpcore.proxy", "httpcore.socks",
)  # fmt: skip

_current_secrets: ContextVar[tuple[str, ...]] = ContextVar("tether_runtime_secrets", default=())


def is_secret_name(name: str) -> bool:
    """Whether a header or query parameter called ``name`` carries a credential."""
    return bool(_SECRET_NAME.search(name))


class Redactor:
    """Masks credential headers, credential query values and known secret values.

    Example: ``Redactor(["s3cr3t"]).text("GET /x?token=abc&q=s3cr3t")`` ⇒
    ``"GET /x?token=***&q=***"``.
    """

    def __init__(self, secrets: Iterable[Any] = ()) -> None:
        values = {
            str(s) for s in secrets if isinstance(s, str | bytes | int) and len(str(s)) >= MIN_SECRET_LENGTH
        }
        # Longest first, so a secret that contains another is masked whole.
        self.secrets = tuple(sorted(values, key=len, reverse=True))

    def text(self, text: str) -> str:
        """``text`` with secret values and ``name=value`` credential pairs masked."""
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return _PAIR.sub(_mask_pair, text)

    def url(self, url: httpx.URL | str) -> str:
        """A URL fit for a log line: credential query values and userinfo masked."""
        url = httpx.URL(str(url))
        if url.userinfo:
            url = url.copy_with(username=MASK, password=None)
        if url.query:
            pairs = parse_qsl(url.query.decode("ascii", "replace"), keep_blank_values=True)
            masked = [(k, MASK if is_secret_name(k) else v) for k, v in pairs]
            url = url.copy_with(query=urlencode(masked, safe="*").encode("ascii"))
        return self.text(str(url))

    def headers(self, headers: Mapping[str, str] | httpx.Headers) -> dict[str, str]:
        """Headers fit for a log line: credential headers masked, others scrubbed of secrets."""
        items = headers.multi_items() if isinstance(headers, httpx.Headers) else headers.items()
        return {k: MASK if is_secret_name(k) else self.text(v) for k, v in items}


def _mask_pair(match: re.Match[str]) -> str:
    name = match.group("name")
    return f"{name}={MASK}" if is_secret_name(name) and match.group("value") else match.group(0)


@contextlib.contextmanager
def redacting(secrets: Iterable[Any]) -> Iterator[Redactor]:
    """Within the block, log records (of the filtered loggers) also mask these values."""
    redactor = Redactor(secrets)
    token = _current_secrets.set(redactor.secrets)
    try:
        yield redactor
    finally:
        _current_secrets.reset(token)


class RedactingFilter(logging.Filter):
    """Rewrites each record's message with secrets masked (it never drops a record).

    Attached to the ``httpx``, ``httpcore`` and ``tether.runtime`` loggers by
    ``install_log_redaction``; the secrets of the current call come from ``redacting``.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the caller's bug; leave the record alone
            return True
        record.msg = Redactor(_current_secrets.get()).text(_mask_header_reprs(message))
        record.args = ()
        return True


# httpcore logs header lists as reprs: [(b'Authorization', b'Bearer x'), ...].
_HEADER_TUPLE = re.compile(r"\((b?['\"])(?P<name>[^'\"]+)\1,\s*(b?['\"])(?P<value>[^'\"]*)\3\)")


def _mask_header_reprs(message: str) -> str:
    def mask(match: re.Match[str]) -> str:
        if not is_secret_name(match.group("name")):
            return match.group(0)
        return f"({match.group(1)}{match.group('name')}{match.group(1)[-1]}, '{MASK}')"

    return _HEADER_TUPLE.sub(mask, message) if "(" in message else message


_FILTER = RedactingFilter()


_installed = False


def install_log_redaction() -> None:
    """Attach the redacting filter to the runtime's and httpx's loggers (idempotent).

    Flow runs call this once each: after the first call it is one flag test, not ten
    ``logging.getLogger`` look-ups under the logging module's lock.
    """
    global _installed
    if _installed:
        return
    for name in REDACTED_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
    _installed = True
