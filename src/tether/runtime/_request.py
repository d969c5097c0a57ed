"""Building the HTTP request for one call from the IR and checked arguments.

Where each argument goes is decided by the parameter's location and serialization rules:
Swagger 2.0's ``collectionFormat`` (csv, ssv, tsv, pipes, multi) when present, else
OpenAPI 3's ``style``/``explode`` (form, spaceDelimited, pipeDelimited, deepObject for
queries; simple, label, matrix for paths). ``x-ms-url-encoding: double`` encodes a value
twice, for APIs (SharePoint-like) that decode path segments once before routing.

The host comes from, in order: ``ConnectionContext.base_url`` (it replaces the scheme and
host, the definition's base path is kept), else the definition's server (``host`` +
``basePath`` + ``schemes``, or OpenAPI 3 ``servers`` with variables filled from the
connection parameters or their defaults).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from tether.definition import Api, Operation, Parameter, Server
from tether.errors import InputError
from tether.runtime._arguments import UNSET, PreparedArguments
from tether.runtime._body import FORM, MULTIPART, encode_body, media_base, text_of
from tether.runtime._pipeline import ConnectionContext
from tether.runtime._ssrf import canonical_host

__all__ = ["base_url", "build_request"]

USER_AGENT = "tether-runtime/0.1"
# Reserved characters a parameter with ``allowReserved`` may keep unencoded (not the query's own & = #).
_RESERVED = ":/?[]@!$'()*,;"
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 field names
_DELIMITERS = {"csv": ",", "ssv": "%20", "tsv": "%09", "pipes": "%7C"}
_STYLE_DELIMITERS = {"form": ",", "spaceDelimited": "%20", "pipeDelimited": "%7C"}


def build_request(
    api: Api, operation: Operation, arguments: PreparedArguments, connection: ConnectionContext
) -> httpx.Request:
    """The request for ``operation`` with checked ``arguments``, ready for the pipeline."""
    values = arguments.values
    path = operation.path
    query: list[str] = []
    headers: dict[str, str] = {"user-agent": USER_AGENT}
    cookies: list[str] = []
    form: dict[str, Any] = {}
    content_type_argument: str | None = None
    for param in operation.parameters:
        if param.name not in values or param.location == "body":
            continue
        value = values[param.name]
        if param.location == "path":
            path = path.replace("{" + param.name + "}", _path_value(param, value))
        elif param.location == "query":
            query.extend(_query_pairs(param, value))
        elif param.location == "header":
            if not _TOKEN.fullmatch(param.name):
                raise InputError(
                    f"{api.name}: operation '{operation.operation_id}' declares header parameter "
                    f"{param.name!r}, which is not a valid HTTP header name (RFC 9110 token characters only)",
                    detail={"document": api.name, "pointer": param.pointer},
                )
            if param.name.lower() == "content-type":
                content_type_argument = text_of(value).strip()
            else:
                # Surrounding whitespace is not part of a header value (RFC 9110 5.5), and h11 refuses it.
                headers[param.name] = _simple(value, bool(param.explode)).strip()
        elif param.location == "cookie":
            cookies.append(f"{param.name}={quote(_simple(value, False), safe='')}")
        elif param.location == "formData":
            form[param.name] = value
    if cookies:
        headers["cookie"] = "; ".join(cookies)

    url = base_url(api, connection).rstrip("/") + "/" + path.lstrip("/")
    if query:
        url += ("&" if "?" in url else "?") + "&".join(query)
    kwargs: dict[str, Any] = {}
    body = arguments.body
    media_type = arguments.media_type
    if media_type and (form or body is not UNSET):
        if media_base(media_type) in (FORM, MULTIPART) and form:
            body = {**form, **(body if isinstance(body, Mapping) else {})}
        encoded = encode_body(media_type, body)
        if encoded.files:
            kwargs["files"] = encoded.files
        else:
            kwargs["content"] = encoded.content
            headers["content-type"] = content_type_argument or encoded.content_type or media_type
    elif content_type_argument:
        headers["content-type"] = content_type_argument
    try:
        method, parsed = operation.method.upper(), _parsed_url(url)
        content = kwargs.get("content")
        if "files" not in kwargs and (content is None or isinstance(content, bytes)):
            request = _in_memory_request(method, parsed, headers, content or b"")
        else:
            request = httpx.Request(method, parsed, headers=headers, **kwargs)
    except httpx.InvalidURL as exc:
        raise InputError(
            f"{api.name}: operation '{operation.operation_id}' builds the URL {url!r}, which is not a "
            f"valid URL ({exc}); check the connection's host or base URL",
            detail={"document": api.name},
        ) from exc
    if "files" in kwargs:
        request.read()  # in-memory parts: read now so a retry or a 307 can send them again
    return request


def _in_memory_request(method: str, url: httpx.URL, headers: dict[str, str], body: bytes) -> httpx.Request:
    """``httpx.Request(method, url, headers=headers, content=body)``, with its headers normalized once.

    That constructor builds the header list, then rebuilds it to put ``Host`` (and for a POST,
    PUT or PATCH without a body, ``Content-Length: 0``) first, then reads the body from its
    stream: the same request comes out of this, in that header order, already read.
    """
    present = {name.lower() for name in headers}
    items: list[tuple[str, str]] = []
    if "host" not in present and url.host:
        items.append(("Host", url.netloc.decode("ascii")))
    framed = "content-length" in present or "transfer-encoding" in present
    if not framed and not body and method in ("POST", "PUT", "PATCH"):
        items.append(("Content-Length", "0"))  # httpx's auto header, ahead of the others
    items.extend(headers.items())
    if body and "content-length" not in present:
        items.append(("Content-Length", str(len(body))))  # httpx's content header, after the others
    request = httpx.Request(method, url, headers=items, stream=httpx.ByteStream(body))
    request._content = body  # what read() would set: the body is in memory, sendable again
    return request


@functools.lru_cache(maxsize=1024)
def _parsed_url(url: str) -> httpx.URL:
    """``url`` parsed (httpx's parser is most of a request's build time; an operation's URLs repeat).

    ``httpx.URL`` is immutable, so one parsed URL serves every request to it; an invalid one
    raises ``httpx.InvalidURL`` each time (exceptions are not cached).
    """
    return httpx.URL(_canonical_ipv4(url))


def _canonical_ipv4(url: str) -> str:
    """``url`` with a legacy IPv4 host (``0177.0.0.1``) spelled as a dotted quad.

    The OS resolver connects such hosts to the address they encode, so the SSRF guard must see
    that address; httpx refuses some of these spellings outright.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    address = canonical_host(host)
    if address == host:
        return url
    userinfo, at, host_port = parts.netloc.rpartition("@")
    port = host_port[len(host) :]  # ":8080" or ""; hostname is the host part, lowercased
    return parts._replace(netloc=f"{userinfo}{at}{address}{port}").geturl()


def base_url(api: Api, connection: ConnectionContext) -> str:
    """Where the API lives for this connection (see the module docstring)."""
    server = _pick_server(api.servers)
    url = _fill_variables(server, connection.parameters) if server else ""
    if connection.base_url:
        path = urlsplit(url).path if "://" in url else url
        return connection.base_url.rstrip("/") + "/" + path.strip("/")
    if "://" not in url:
        raise InputError(
            f"{api.name}: the definition has no host (server URL {url or '/'!r}); "
            "give the connection a base URL (ConnectionContext(base_url=...))",
            detail={"document": api.name},
        )
    return url


def _pick_server(servers: list[Server]) -> Server | None:
    if not servers:
        return None
    first = servers[0]
    if first.url.startswith("http://"):
        secure = "https://" + first.url[len("http://") :]
        return next((s for s in servers if s.url == secure), first)  # same place over TLS
    return first


def _fill_variables(server: Server, parameters: Mapping[str, Any]) -> str:
    url = server.url
    for name, variable in server.variables.items():
        value = parameters.get(name, variable.default)
        url = url.replace("{" + name + "}", str(value))
    return url


def _encode(text: str, param: Parameter, *, safe: str = "") -> str:
    encoded = quote(text, safe=_RESERVED if param.allow_reserved else safe)
    if param.url_encoding == "double":
        encoded = quote(encoded, safe="")
    return encoded


def _simple(value: Any, explode: bool) -> str:
    """OpenAPI 3 ``simple`` style (headers, paths): arrays and objects as comma lists."""
    if isinstance(value, list):
        return ",".join(text_of(v) for v in value)
    if isinstance(value, dict):
        if explode:
            return ",".join(f"{k}={text_of(v)}" for k, v in value.items())
        return ",".join(f"{k},{text_of(v)}" for k, v in value.items())
    return text_of(value)


def _path_value(param: Parameter, value: Any) -> str:
    style = param.style or "simple"
    explode = bool(param.explode)
    if style == "label":
        return "." + _encode(_simple(value, explode).replace(",", "." if explode else ","), param, safe=",.=")
    if style == "matrix":
        if isinstance(value, list) and explode:
            return "".join(f";{param.name}={_encode(text_of(v), param)}" for v in value)
        return f";{param.name}={_encode(_simple(value, explode), param, safe=',')}"
    if isinstance(value, list | dict):
        return _encode(_simple(value, explode), param, safe=",=")
    return _encode(text_of(value), param)


def _query_pairs(param: Parameter, value: Any) -> list[str]:
    name = quote(param.name, safe="")
    if value is None:
        return []
    if isinstance(value, list):
        items = [_encode(text_of(v), param) for v in value]
        delimiter = _DELIMITERS.get(param.collection_format or "")
        if param.collection_format == "multi" or (
            delimiter is None
            and (param.explode and param.style in ("form", "spaceDelimited", "pipeDelimited", None))
        ):
            return [f"{name}={item}" for item in items]
        if delimiter is None:
            delimiter = _STYLE_DELIMITERS.get(param.style or "form", ",")
        return [f"{name}={delimiter.join(items)}"]
    if isinstance(value, dict):
        if param.style == "deepObject":
            return [
                f"{name}%5B{quote(str(k), safe='')}%5D={_encode(text_of(v), param)}" for k, v in value.items()
            ]
        if param.explode:
            return [f"{quote(str(k), safe='')}={_encode(text_of(v), param)}" for k, v in value.items()]
        flat = ",".join(f"{_encode(str(k), param)},{_encode(text_of(v), param)}" for k, v in value.items())
        return [f"{name}={flat}"]
    return [f"{name}={_encode(text_of(value), param)}"]
