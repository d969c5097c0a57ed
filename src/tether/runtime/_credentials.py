"""Credentials stay with their origin: the one rule for redirects and follow-up requests.

A request that leaves the operation's origin (scheme, host or port differ) — a redirect, a
``nextLink`` or an async ``Location`` elsewhere — is rebuilt without credentials of any scheme:
``Authorization``, ``Proxy-Authorization``, ``Cookie``, any header or query parameter whose name
says it is a credential (``X-Api-Key``, ``code``-less ``access_token``...), and any header or query
value that carries one of the connection's secret values (an API key a policy put under a plain
name). The connection's ``httpx.Auth`` is not applied to it either (the transport's job), and the
auth scheme's own additions never reach the request the rule is applied to: the transport applies
auth to a copy of each request it sends.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final
from urllib.parse import parse_qsl, urlencode

import httpx

from tether.runtime._redact import is_secret_name

__all__ = ["CREDENTIAL_HEADERS", "form_without_credentials", "same_origin", "without_credentials"]

CREDENTIAL_HEADERS: Final = frozenset({"authorization", "proxy-authorization", "cookie"})


def origin(url: httpx.URL) -> tuple[str, str, int | None]:
    """Scheme, host and port (the default port made explicit, so ``:443`` equals none on https)."""
    port = url.port or {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host, port


def same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    """Whether two URLs share scheme, host and port."""
    return origin(a) == origin(b)


def _carries(value: str, secrets: Iterable[str]) -> bool:
    return any(secret in value for secret in secrets)


def without_credentials(
    url: httpx.URL, headers: httpx.Headers, secrets: Iterable[str] = ()
) -> tuple[httpx.URL, httpx.Headers]:
    """``url`` and ``headers`` with every credential removed (see the module docstring).

    ``secrets`` are the connection's secret values (only those of at least 4 characters are
    searched for, as in log redaction, so a ``1`` does not strip every header).
    """
    values = tuple(s for s in secrets if len(s) >= 4)
    kept = httpx.Headers(
        [
            (name, value)
            for name, value in headers.multi_items()
            if name.lower() not in CREDENTIAL_HEADERS
            and not is_secret_name(name)
            and not _carries(value, values)
        ]
    )
    if url.query:
        pairs = parse_qsl(url.query.decode("ascii", "replace"), keep_blank_values=True)
        clean = [(k, v) for k, v in pairs if not is_secret_name(k) and not _carries(v, values)]
        if len(clean) != len(pairs):
            url = url.copy_with(query=urlencode(clean).encode("ascii") if clean else None)
    if url.userinfo:
        url = url.copy_with(username=None, password=None)
    return url, kept


def form_without_credentials(content: bytes, secrets: Iterable[str] = ()) -> bytes:
    """A form body (``application/x-www-form-urlencoded``) less its credential fields.

    An OAuth token request posts ``client_secret``, ``refresh_token`` or ``code`` in its body; a
    307/308 to another origin would otherwise carry them there.
    """
    values = tuple(s for s in secrets if len(s) >= 4)
    pairs = parse_qsl(content.decode("latin-1"), keep_blank_values=True)
    clean = [
        (k, v)
        for k, v in pairs
        if not is_secret_name(k) and k not in _FORM_SECRETS and not _carries(v, values)
    ]
    return urlencode(clean).encode("latin-1") if len(clean) != len(pairs) else content


# OAuth form fields that are credentials though their names do not say so.
_FORM_SECRETS: Final = frozenset({"code", "assertion", "username"})
