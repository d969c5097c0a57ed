"""Import one operation from a sample request and response ("import from sample").

The request is HTTP request text, as a browser's or proxy's "copy as raw" gives it::

    POST https://api.example.com/v1/items?x=1 HTTP/1.1
    Content-Type: application/json

    {"name": "pen"}

(an origin-form target such as ``/v1/items`` takes its host from the ``Host`` header), or a
JSON description ``{"method", "url", "headers", "body"}``. The response is HTTP response
text (``HTTP/1.1 200 OK``, headers, a blank line, the body) or just the body. Schemas are
inferred from the bodies; credentials in the request are never copied (see ``_credentials``).
"""

from __future__ import annotations

import json
import re
from typing import Any

from tether.definition import ConnectorPackage
from tether.errors import InputError
from tether.importers._http_example import HttpExample, ResponseExample, set_body
from tether.importers._infer import parse_json
from tether.importers._operation_builder import build_operation_package
from tether.importers._result import ImportResult

__all__ = ["import_sample"]

_REQUEST_LINE = re.compile(
    r"^([A-Za-z]+)\s+((?:[A-Za-z][A-Za-z0-9+.-]*://|/)\S*)(?:\s+HTTP/\d(?:\.\d)?)?\s*$"
)
_STATUS_LINE = re.compile(r"^HTTP/\d(?:\.\d)?\s+(\d{3})(?:\s.*)?$")


def import_sample(
    request: bytes, response: bytes | None = None, *, into: ConnectorPackage | None = None
) -> ImportResult:
    """Build a package with the operation the sample describes (or add it to ``into``).

    Raises:
        InputError: the request is neither HTTP request text nor a JSON description, or has
            no absolute URL (nor a Host header); or, with ``into``, another host or a clash.
    """
    report: list[tuple[str, str, str]] = []
    example = _read_request(request, report)
    answer = _read_response(response) if response is not None else None
    return build_operation_package(
        example, answer, into=into, source="sample request", origin="a sample request", report=report
    )


def _read_request(content: bytes, report: list[tuple[str, str, str]]) -> HttpExample:
    text = content.decode("utf-8-sig", errors="replace")
    if text.lstrip().startswith("{"):
        ok, value = parse_json(text)
        if not ok or not isinstance(value, dict):
            raise InputError(
                "sample request: it starts with '{' but is not a JSON object {method, url, headers, body}"
            )
        return _from_description(value)
    head, body = _split_message(text)
    lines = head.split("\n")
    match = _REQUEST_LINE.match(lines[0].strip()) if lines else None
    if match is None:
        raise InputError(
            "sample request:1: expected a request line such as 'POST https://api.example.com/items HTTP/1.1' "
            f"(or a JSON description), found {lines[0].strip()[:80]!r}"
        )
    headers = _headers(lines[1:], "sample request")
    url = match.group(2)
    if url.startswith("/"):
        host = next((v for k, v in headers if k.lower() == "host"), None)
        if host is None:
            raise InputError(
                f"sample request:1: the target {url!r} is a path; give an absolute URL or a Host header"
            )
        url = f"https://{host}{url}"
        report.append(("approximation", "request line", "the scheme is not in the sample; https was assumed"))
    example = HttpExample(method=match.group(1).upper(), url=url, headers=headers)
    if body.strip():
        set_body(example, body.encode())
    return example


def _from_description(value: dict[str, Any]) -> HttpExample:
    url = value.get("url")
    if not isinstance(url, str) or not url:
        raise InputError("sample request: the JSON description needs a string 'url'")
    raw_headers = value.get("headers") or {}
    headers: list[tuple[str, str]] = []
    if isinstance(raw_headers, dict):
        headers = [(str(k), str(v)) for k, v in raw_headers.items()]
    elif isinstance(raw_headers, list):
        for item in raw_headers:
            if isinstance(item, dict) and "name" in item:
                headers.append((str(item["name"]), str(item.get("value", ""))))
            elif isinstance(item, list | tuple) and len(item) == 2:
                headers.append((str(item[0]), str(item[1])))
            else:
                raise InputError("sample request: 'headers' items must be {name, value} or [name, value]")
    else:
        raise InputError("sample request: 'headers' must be an object or a list")
    example = HttpExample(method=str(value.get("method") or "GET").upper(), url=url, headers=headers)
    body = value.get("body")
    if body is not None:
        # A JSON value is the body itself; a string is the body's text (JSON or not).
        raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        set_body(example, raw, json_hint=not isinstance(body, str))
    return example


def _read_response(content: bytes) -> ResponseExample:
    text = content.decode("utf-8-sig", errors="replace")
    first = text.lstrip().split("\n", 1)[0].strip()
    if not first.startswith("HTTP/"):
        return ResponseExample(body=text.encode())
    match = _STATUS_LINE.match(first)
    if match is None:
        raise InputError(
            f"sample response:1: expected a status line such as 'HTTP/1.1 200 OK', found {first!r}"
        )
    head, body = _split_message(text.lstrip())
    headers = _headers(head.split("\n")[1:], "sample response")
    return ResponseExample(status=int(match.group(1)), headers=headers, body=body.encode() if body else None)


def _split_message(text: str) -> tuple[str, str]:
    """Head and body of an HTTP message: split at the first empty line (CRLF or LF)."""
    normalized = text.lstrip("\r\n").replace("\r\n", "\n")
    head, _, body = normalized.partition("\n\n")
    return head, body


def _headers(lines: list[str], source: str) -> list[tuple[str, str]]:
    headers = []
    for number, line in enumerate(lines, start=2):
        if not line.strip():
            continue
        name, separator, value = line.partition(":")
        if not separator or not name.strip() or " " in name.strip():
            raise InputError(
                f"{source}:{number}: expected a header 'Name: value', found {line.strip()[:80]!r}"
            )
        headers.append((name.strip(), value.strip()))
    return headers
