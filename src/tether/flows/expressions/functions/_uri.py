"""URI parsing functions: uriHost, uriPath, uriPathAndQuery, uriPort, uriQuery, uriScheme.

They follow .NET's ``System.Uri``: an absolute URI is required, the path defaults to ``/``, the port
to the scheme's default, and the query keeps its leading ``?``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import SplitResult, urlsplit

from .._context import ExpressionContext
from ._registry import FunctionError, expect_string, register

_DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21, "ws": 80, "wss": 443, "sftp": 22, "ldap": 389}


def _uri(function: str, value: Any) -> SplitResult:
    text = expect_string(function, 0, value).strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - validates the port
    except ValueError as exc:
        raise FunctionError(
            f"The template language function '{function}' expects an absolute URI; '{text}' "
            f"isn't valid: {exc}.",
            argument=0,
        ) from exc
    if not parts.scheme or not (parts.netloc or parts.scheme in ("mailto", "urn", "file")):
        raise FunctionError(
            f"The template language function '{function}' expects an absolute URI such as "
            f"'https://contoso.com/path'; '{text}' isn't one.",
            argument=0,
        )
    return parts


@register("uriHost", 1)
def uri_host(context: ExpressionContext, uri: Any) -> str:
    return _uri("uriHost", uri).hostname or ""


@register("uriPath", 1)
def uri_path(context: ExpressionContext, uri: Any) -> str:
    return _uri("uriPath", uri).path or "/"


@register("uriPathAndQuery", 1)
def uri_path_and_query(context: ExpressionContext, uri: Any) -> str:
    parts = _uri("uriPathAndQuery", uri)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


@register("uriPort", 1)
def uri_port(context: ExpressionContext, uri: Any) -> int:
    parts = _uri("uriPort", uri)
    if parts.port is not None:
        return parts.port
    return _DEFAULT_PORTS.get(parts.scheme.lower(), -1)


@register("uriQuery", 1)
def uri_query(context: ExpressionContext, uri: Any) -> str:
    query = _uri("uriQuery", uri).query
    return f"?{query}" if query else ""


@register("uriScheme", 1)
def uri_scheme(context: ExpressionContext, uri: Any) -> str:
    return _uri("uriScheme", uri).scheme.lower()
