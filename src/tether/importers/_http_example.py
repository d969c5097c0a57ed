"""An example HTTP request and response, as the cURL and sample importers read them.

Both importers parse their own syntax into these values; :func:`set_body` decides, once for
both, how a body is described (JSON schema, form fields, files, or a plain string).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import default as email_policy
from typing import Literal
from urllib.parse import parse_qsl

from tether.importers._credentials import Credential
from tether.importers._infer import parse_json

__all__ = ["BodyKind", "FormField", "HttpExample", "ResponseExample", "set_body"]

BodyKind = Literal["none", "json", "form", "multipart", "raw"]


@dataclass
class FormField:
    """A form field: ``value`` is the text, or the file name when ``is_file``."""

    name: str
    value: str
    is_file: bool = False


@dataclass
class HttpExample:
    """A request as an importer understood it, before it becomes an operation.

    ``query`` adds to the URL's own query (``curl -G``); ``credentials`` lists credentials the
    parser already took out (``curl -u``); ``body_kind`` says how to read ``body``/``form``.
    """

    method: str
    url: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | None = None
    body_kind: BodyKind = "none"
    form: list[FormField] = field(default_factory=list)
    query: list[tuple[str, str]] = field(default_factory=list)
    credentials: list[Credential] = field(default_factory=list)


@dataclass
class ResponseExample:
    """A sample response: status, headers and the body (JSON or text)."""

    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | None = None


def set_body(request: HttpExample, body: bytes, *, json_hint: bool = False) -> None:
    """Attach ``body`` to ``request``, deciding how to describe it from its Content-Type and content.

    JSON (declared, or undeclared but parseable) ⇒ a schema; ``x-www-form-urlencoded`` (declared,
    or the default for undeclared non-JSON data, as curl sends it) ⇒ form fields; multipart ⇒
    form fields and files; anything else ⇒ a string body.
    """
    request.body = body
    content_type = next((v for k, v in request.headers if k.lower() == "content-type"), "")
    lowered = content_type.lower()
    is_json, _value = parse_json(body)
    if is_json and (json_hint or not lowered or "json" in lowered):
        request.body_kind = "json"
    elif "multipart/form-data" in lowered:
        request.body_kind, request.form = "multipart", _multipart_fields(content_type, body)
    elif not lowered or "x-www-form-urlencoded" in lowered:
        text = body.decode("utf-8", errors="replace")
        request.form = [FormField(k, v) for k, v in parse_qsl(text, keep_blank_values=True)]
        request.body_kind = "form" if request.form else "raw"
    else:
        request.body_kind = "raw"


def _multipart_fields(content_type: str, body: bytes) -> list[FormField]:
    message = BytesParser(policy=email_policy).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    fields = []
    for part in message.iter_parts() if message.is_multipart() else []:
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        filename = part.get_filename()
        if filename is not None:
            fields.append(FormField(str(name), filename, is_file=True))
        else:
            fields.append(FormField(str(name), str(part.get_content()).strip()))
    return fields
