"""Import one operation from a cURL command line.

The command is split into words by :func:`shlex.split` (POSIX shell rules: quotes, escapes,
``\\``-newline continuations), then read the way curl reads its options: the method, URL,
headers, data (``-d``, ``--data-*``, ``--json``), forms (``-F``), Basic credentials (``-u``)
and ``-G``. Options that only change how curl behaves locally (``-s``, ``-L``, ``-k``,
``--compressed``, ``-o FILE`` ...) are accepted and reported; unknown ones are reported.

Credentials (``-u``, ``Authorization``, key-like headers and query parameters, cookies) are
never copied into the package: they become a security scheme and connection parameters.

    >>> result = import_curl("curl -H 'Accept: application/json' https://api.example.com/v1/items?limit=5")
    >>> result.package.definition.data["paths"]["/v1/items"]["get"]["operationId"]
    'GetV1Items'
"""

from __future__ import annotations

import shlex
from urllib.parse import parse_qsl, quote_plus

from tether.definition import ConnectorPackage
from tether.errors import InputError
from tether.importers._credentials import Credential
from tether.importers._http_example import FormField, HttpExample, set_body
from tether.importers._operation_builder import build_operation_package
from tether.importers._result import ImportResult

__all__ = ["import_curl"]

_SOURCE = "curl command"
# Options that change only what curl does locally; accepted and ignored.
_IGNORED_FLAGS = {
    "-s",
    "--silent",
    "-S",
    "--show-error",
    "-L",
    "--location",
    "-k",
    "--insecure",
    "-v",
    "--verbose",
    "-i",
    "--include",
    "-f",
    "--fail",
    "--fail-with-body",
    "--compressed",
    "-N",
    "--no-buffer",
    "-#",
    "--progress-bar",
    "-g",
    "--globoff",
    "-O",
    "--remote-name",
    "-J",
    "--remote-header-name",
    "--http1.0",
    "--http1.1",
    "--http2",
    "--http2-prior-knowledge",
    "--http3",
    "-4",
    "--ipv4",
    "-6",
    "--ipv6",
    "-q",
    "--location-trusted",
    "--tr-encoding",
    "--no-keepalive",
    "--raw",
    "--path-as-is",
    "--digest",
    "--basic",
    "--ntlm",
    "--negotiate",
    "--anyauth",
    "-Z",
    "--parallel",
    "--ssl",
    "--ssl-reqd",
    "-1",
    "--tlsv1",
}
_IGNORED_WITH_VALUE = {
    "-o",
    "--output",
    "-w",
    "--write-out",
    "--connect-timeout",
    "-m",
    "--max-time",
    "--retry",
    "--retry-delay",
    "--retry-max-time",
    "-x",
    "--proxy",
    "-U",
    "--proxy-user",
    "--cacert",
    "--capath",
    "--cert",
    "-E",
    "--key",
    "--cert-type",
    "--key-type",
    "--resolve",
    "--connect-to",
    "--limit-rate",
    "-c",
    "--cookie-jar",
    "-r",
    "--range",
    "-A",
    "--user-agent",
    "-e",
    "--referer",
    "--max-redirs",
    "--interface",
    "-y",
    "--speed-time",
    "-Y",
    "--speed-limit",
    "--dns-servers",
    "--oauth2-bearer",
    "--stderr",
    "--trace",
    "--trace-ascii",
    "--keepalive-time",
    "-z",
    "--time-cond",
    "--url-query",
}
_WITH_VALUE = {
    "-X",
    "--request",
    "--url",
    "-H",
    "--header",
    "-d",
    "--data",
    "--data-ascii",
    "--data-raw",
    "--data-binary",
    "--data-urlencode",
    "--json",
    "-F",
    "--form",
    "--form-string",
    "-u",
    "--user",
    "-b",
    "--cookie",
    "-T",
    "--upload-file",
    *_IGNORED_WITH_VALUE,
}
_SHORT_FLAGS = {opt[1] for opt in _IGNORED_FLAGS | {"-G", "-I"} if len(opt) == 2}
_SHORT_WITH_VALUE = {opt[1] for opt in _WITH_VALUE if len(opt) == 2}


def import_curl(command: str, *, into: ConnectorPackage | None = None) -> ImportResult:
    """Build a package with the one operation ``command`` calls (or add it to ``into``).

    Raises:
        InputError: the command cannot be split into words, has no URL, or (with ``into``)
            targets another host or an operation the package already has.
    """
    text = command.replace("\\\r\n", " ").replace("\\\n", " ")
    try:
        words = shlex.split(text, comments=False, posix=True)
    except ValueError as exc:
        raise InputError(f"{_SOURCE}: cannot split the command into words ({exc}); check its quotes") from exc
    if words and words[0].rsplit("/", 1)[-1].lower() in ("curl", "curl.exe"):
        words = words[1:]
    if not words:
        raise InputError(f"{_SOURCE}: the command is empty; paste a command such as 'curl https://…'")
    report: list[tuple[str, str, str]] = []
    request = _read_options(_expand(words), report)
    return build_operation_package(
        request, None, into=into, source=_SOURCE, origin="a cURL command", report=report
    )


def _expand(words: list[str]) -> list[tuple[str, str | None]]:
    """(option, value) pairs; a URL is ("", url). Combined short flags (``-sSL``) are split."""
    pairs: list[tuple[str, str | None]] = []
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if word == "--" or not word.startswith("-") or word == "-":
            pairs.extend(("", rest) for rest in (words[index:] if word == "--" else [word]))
            if word == "--":
                break
            continue
        if word.startswith("--"):
            if word in _WITH_VALUE:
                value: str | None = words[index] if index < len(words) else None
                index += 1
                pairs.append((word, value))
            else:
                pairs.append((word, None))
            continue
        for position, letter in enumerate(word[1:], start=1):
            if letter in _SHORT_WITH_VALUE:
                attached = word[position + 1 :]
                if attached:
                    value = attached
                else:
                    value = words[index] if index < len(words) else None
                    index += 1
                pairs.append((f"-{letter}", value))
                break
            pairs.append((f"-{letter}", None))
    return pairs


def _read_options(pairs: list[tuple[str, str | None]], report: list[tuple[str, str, str]]) -> HttpExample:
    method: str | None = None
    urls: list[str] = []
    headers: list[tuple[str, str]] = []
    data: list[str] = []
    encoded: list[tuple[str, str]] = []  # --data-urlencode pieces, already encoded
    form: list[FormField] = []
    credentials: list[Credential] = []
    as_query = head = False
    json_body = False
    for option, value in pairs:
        if value is None and option in _WITH_VALUE:
            raise InputError(f"{_SOURCE}: option {option} needs a value")
        if option == "":
            urls.append(value or "")
        elif option in ("-X", "--request"):
            method = (value or "").upper()
        elif option == "--url":
            urls.append(value or "")
        elif option in ("-H", "--header"):
            name, separator, header_value = (value or "").partition(":")
            if separator and name.strip():
                headers.append((name.strip(), header_value.strip()))
            elif name.endswith(";"):
                headers.append((name[:-1].strip(), ""))
        elif option in ("-d", "--data", "--data-ascii", "--data-binary", "--data-raw", "--json"):
            if value is not None and value.startswith("@") and option != "--data-raw":
                report.append(
                    (
                        "approximation",
                        option,
                        f"data read from the file {value[1:]!r} is not "
                        "available here; the body is described as a string",
                    )
                )
            data.append(value or "")
            if option == "--json":
                json_body = True
                headers += [("Content-Type", "application/json"), ("Accept", "application/json")]
        elif option == "--data-urlencode":
            encoded.append(_urlencode_piece(value or "", report))
        elif option in ("-F", "--form", "--form-string"):
            form.append(_form_field(value or "", option == "--form-string"))
        elif option in ("-u", "--user"):
            credentials.append(Credential("basic", "header", "Authorization"))
            report.append(
                (
                    "warning",
                    option,
                    "credentials: not copied; they become Basic authentication "
                    "with username and password connection parameters",
                )
            )
        elif option in ("-b", "--cookie"):
            report.append(("warning", option, "cookies were dropped (they usually hold a session)"))
        elif option in ("-G", "--get"):
            as_query = True
        elif option in ("-I", "--head"):
            head = True
        elif option in ("-T", "--upload-file"):
            method = method or "PUT"
            report.append(("approximation", option, "the uploaded file becomes a string body"))
            data.append("")
        elif option in _IGNORED_FLAGS or option in _IGNORED_WITH_VALUE:
            report.append(("info", option, "affects only how curl runs; ignored"))
        else:
            report.append(
                (
                    "unsupported",
                    option,
                    "unknown curl option; ignored (if it takes a value, that "
                    "value may have been read as the URL)",
                )
            )
    if not urls:
        raise InputError(f"{_SOURCE}: no URL found; give one as an argument or with --url")
    if len(urls) > 1:
        report.append(("unsupported", "URL", f"{len(urls)} URLs given; only the first is imported"))
    url = urls[0] if "://" in urls[0] else "http://" + urls[0]
    if url != urls[0]:
        report.append(("approximation", "URL", "no scheme given; curl's default http:// was assumed"))
    request = HttpExample(method=method or "GET", url=url, headers=headers, credentials=credentials)
    pieces = [*data, *(f"{k}={v}" if k else v for k, v in encoded)]
    if as_query:
        request.query = parse_qsl("&".join(pieces), keep_blank_values=True)
    elif form:
        request.method, request.body_kind, request.form = method or "POST", "multipart", form
        if pieces:
            report.append(("unsupported", "-d", "curl cannot send -d and -F together; the data was ignored"))
    elif pieces:
        request.method = method or "POST"
        set_body(request, "&".join(pieces).encode(), json_hint=json_body)
    if head:
        request.method = "HEAD"
    return request


def _urlencode_piece(value: str, report: list[tuple[str, str, str]]) -> tuple[str, str]:
    """curl's ``--data-urlencode`` forms: ``content``, ``=content``, ``name=content``, ``name@file``."""
    name, separator, content = value.partition("=")
    if not separator:
        if "@" in value and not value.startswith("@"):
            field_name, _, file = value.partition("@")
            report.append(
                (
                    "approximation",
                    "--data-urlencode",
                    f"content of the file {file!r} is not "
                    "available here; the field is described without a test value",
                )
            )
            return field_name, ""
        return "", quote_plus(value)
    return name, quote_plus(content)


def _form_field(value: str, literal: bool) -> FormField:
    """``name=value``, ``name=@file;type=…`` (a file) or ``name=<file`` (text read from a file)."""
    name, _, content = value.partition("=")
    if literal:
        return FormField(name, content)
    if content.startswith("@"):
        filename = content[1:].split(";", 1)[0]
        return FormField(name, filename, is_file=True)
    if content.startswith("<"):
        return FormField(name, "")
    return FormField(name, content.split(";type=", 1)[0])
