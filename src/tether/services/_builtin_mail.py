"""Mail (SMTP): Send an email through the connection's SMTP server, with aiosmtplib.

The SMTP host is a destination like any other: it is resolved once, every address is checked
against the environment's network policy by the runtime's guard (loopback and private addresses
refused unless the environment allows them, exactly as for HTTP), and the socket is opened to
the checked address, so a second DNS answer cannot move the connection elsewhere. TLS still
verifies the certificate against the host *name*. Modes: ``none``, ``starttls`` (upgrade on
the plain port, refused if the server does not offer it) and ``tls`` (implicit TLS, port 465).
The password is a secure connection parameter and never reaches an answer or an error message.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import mimetypes
import re
import socket
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any, Final

import aiosmtplib

from tether.errors import InputError
from tether.runtime import GuardedResolver, UpstreamError, UpstreamUnavailable
from tether.services._builtin_call import BuiltinAnswer, BuiltinCall

__all__ = ["TLS_MODES", "send_email"]

TLS_MODES: Final = ("none", "starttls", "tls")
SMTP_TIMEOUT: Final = 30.0
_SPLIT: Final = re.compile(r"[;,]")


async def send_email(call: BuiltinCall) -> BuiltinAnswer:
    """Send an email: ``To``, ``Cc``, ``Subject``, ``Body`` (HTML) and ``Attachments``."""
    message_in = call.arguments.get("emailMessage", call.arguments.get("body"))
    if not isinstance(message_in, Mapping):
        raise InputError("Send an email needs a body {'To': …, 'Subject': …, 'Body': …}.")
    settings = _settings(call.parameters)
    message, recipients = _message(message_in, settings["from"])
    sock = await _connect(call, settings["host"], settings["port"])
    smtp = aiosmtplib.SMTP(
        sock=sock,
        hostname=settings["host"],
        username=settings["username"] or None,
        password=settings["password"] or None,
        use_tls=settings["tls"] == "tls",
        start_tls=settings["tls"] == "starttls",
        timeout=SMTP_TIMEOUT,
    )
    try:
        async with smtp:
            refused, _reply = await smtp.send_message(message, recipients=recipients)
    except aiosmtplib.SMTPAuthenticationError as exc:
        raise UpstreamError(f"The SMTP server refused the user name or password ({exc.code}).") from None
    except aiosmtplib.SMTPRecipientsRefused as exc:
        refused_all = ", ".join(r.recipient for r in exc.recipients)
        raise UpstreamError(f"The SMTP server refused every recipient: {refused_all}.") from None
    except aiosmtplib.SMTPResponseException as exc:
        raise UpstreamError(f"The SMTP server answered {exc.code}: {exc.message}") from None
    except (
        aiosmtplib.SMTPConnectError,
        aiosmtplib.SMTPServerDisconnected,
        aiosmtplib.SMTPTimeoutError,
    ) as exc:
        # The server could not be reached or went away: worth a retry (flows retry these).
        raise UpstreamUnavailable(f"SMTP with {settings['host']}:{settings['port']} failed: {exc}") from None
    except (aiosmtplib.SMTPException, OSError) as exc:  # OSError: TLS refusals (ssl.SSLError)
        # A refusal (no AUTH offered, no STARTTLS, an untrusted certificate): a retry would meet it again.
        raise UpstreamError(f"SMTP with {settings['host']}:{settings['port']} failed: {exc}") from None
    finally:
        sock.close()
    accepted = [r for r in recipients if r not in refused]
    return BuiltinAnswer(200, {"messageId": message["Message-ID"], "recipients": accepted})


def _settings(parameters: Mapping[str, Any]) -> dict[str, Any]:
    host = str(parameters.get("host") or "").strip()
    if not host:
        raise InputError("The Mail connection has no SMTP host: update the connection's 'host'.")
    try:
        port = int(parameters.get("port") or 0)
    except (TypeError, ValueError):
        port = 0
    if not 0 < port < 65536:
        raise InputError("The Mail connection's 'port' must be a number from 1 to 65535.")
    tls = str(parameters.get("tlsMode") or "starttls").strip().lower()
    if tls not in TLS_MODES:
        raise InputError(f"The Mail connection's 'tlsMode' is {tls!r}: use one of {', '.join(TLS_MODES)}.")
    sender = str(parameters.get("from") or parameters.get("username") or "").strip()
    if "@" not in sender:
        raise InputError("The Mail connection needs a 'from' address (name@domain).")
    return {
        "host": host,
        "port": port,
        "tls": tls,
        "from": sender,
        "username": str(parameters.get("username") or ""),
        "password": str(parameters.get("password") or ""),
    }


def _addresses(value: Any, field: str) -> list[str]:
    if value in (None, ""):
        return []
    items = value if isinstance(value, list) else _SPLIT.split(str(value))
    found = [str(item).strip() for item in items if str(item).strip()]
    for address in found:
        if "@" not in address or any(c in address for c in "\r\n<>"):
            raise InputError(f"{field}: {address!r} is not an email address.")
    return found


def _message(data: Mapping[str, Any], sender: str) -> tuple[EmailMessage, list[str]]:
    to, cc = _addresses(data.get("To"), "To"), _addresses(data.get("Cc"), "Cc")
    if not to:
        raise InputError("To: give at least one recipient.")
    subject = str(data.get("Subject") or "")
    if "\n" in subject or "\r" in subject:
        raise InputError("Subject: a subject is one line.")
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, ", ".join(to), subject
    if cc:
        message["Cc"] = ", ".join(cc)
    message["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[1])
    message.set_content(str(data.get("Body") or ""), subtype="html")
    for index, attachment in enumerate(data.get("Attachments") or []):
        name, content = _attachment(attachment, index)
        kind = (mimetypes.guess_type(name)[0] or "application/octet-stream").split("/", 1)
        message.add_attachment(content, maintype=kind[0], subtype=kind[1], filename=name)
    return message, to + cc


def _attachment(attachment: Any, index: int) -> tuple[str, bytes]:
    where = f"Attachments[{index}]"
    if not isinstance(attachment, Mapping) or not attachment.get("Name"):
        raise InputError(f"{where}: an attachment needs a 'Name' and 'ContentBytes' (base64).")
    try:
        content = base64.b64decode(str(attachment.get("ContentBytes") or ""), validate=True)
    except (binascii.Error, ValueError):
        raise InputError(f"{where}: 'ContentBytes' is not base64.") from None
    return str(attachment["Name"]), content


async def _connect(call: BuiltinCall, host: str, port: int) -> socket.socket:
    """A socket connected to an address of ``host`` that the environment's policy allows."""
    results = await GuardedResolver(call.prepared.network).resolve(host, port)
    loop = asyncio.get_running_loop()
    failure: OSError | None = None
    for result in results:
        sock = socket.socket(result["family"], socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            await asyncio.wait_for(loop.sock_connect(sock, (result["host"], port)), SMTP_TIMEOUT)
            return sock
        except (OSError, TimeoutError) as exc:
            sock.close()
            failure = exc if isinstance(exc, OSError) else OSError(str(exc))
    raise UpstreamUnavailable(f"cannot connect to the SMTP server {host}:{port}: {failure}")
