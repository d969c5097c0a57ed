"""Mail (SMTP) over STARTTLS and implicit TLS with a password, against aiosmtpd with a test certificate."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.governance._audit_kit import Mailbox, World
from tether.api import free_port

SMTP_USER, SMTP_PASSWORD = "mailer", "smtp-tls-secret"
# Its own environment: these connections carry a user and password the plain test server refuses.
ENV = "gov-tls"


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (the test trusts it through SSL_CERT_FILE)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        SMTP_USER.encode(),
        SMTP_PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)  # not handled: aiosmtpd answers 535 itself


@pytest.fixture(scope="module")
def tls_servers(
    world: World, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Mailbox, int, int, Path]]:
    """One STARTTLS server (TLS and a password required) and one implicit-TLS server."""
    with world.http() as admin:
        admin.post("/environments", json={"name": ENV}).raise_for_status()
        admin.put(f"/environments/{ENV}/settings", json={"network_allow": ["127.0.0.1"]}).raise_for_status()
    cert, key = _certificate(tmp_path_factory.mktemp("smtp-tls"))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    mailbox = Mailbox()
    starttls_port, implicit_port = free_port(), free_port()
    starttls = Controller(
        mailbox, hostname="127.0.0.1", port=starttls_port, tls_context=context, require_starttls=True,
        auth_required=True, authenticator=_authenticator,
    )  # fmt: skip
    implicit = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=implicit_port,
        ssl_context=context,
        authenticator=_authenticator,
        auth_require_tls=False,  # aiosmtpd counts only STARTTLS as TLS; this whole connection is TLS
    )
    starttls.start()
    try:
        implicit.start()
        try:
            yield mailbox, starttls_port, implicit_port, cert
        finally:
            implicit.stop()
    finally:
        starttls.stop()


def _send(world: World, port: int, mode: str, password: str = SMTP_PASSWORD) -> Any:
    parameters = {
        "host": "127.0.0.1", "port": port, "tlsMode": mode, "from": "t@example.test",
        "username": SMTP_USER, "password": password,
    }  # fmt: skip
    with world.http() as admin:
        created = admin.post(
            f"/environments/{ENV}/connections", json={"connector": "mail-smtp", "parameters": parameters}
        )
        assert created.status_code == 201, created.text
        message = {"To": "tls@example.test", "Subject": f"over {mode}", "Body": "<p>secure</p>"}
        return admin.post(
            f"/environments/{ENV}/connections/{created.json()['id']}/invoke/SendEmail",
            json={"emailMessage": message},
        )


@pytest.mark.parametrize("mode", ["starttls", "tls"])
def test_send_over_tls_with_a_password(world: World, tls_servers, mode: str, monkeypatch) -> None:
    mailbox, starttls_port, implicit_port, cert = tls_servers
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the server trusts the test's certificate
    start = mailbox.count()
    answer = _send(world, starttls_port if mode == "starttls" else implicit_port, mode)
    assert answer.status_code == 200, answer.text
    [(recipients, message)] = mailbox.since(start, 1)
    assert recipients == ["tls@example.test"] and message["Subject"] == f"over {mode}"


def test_tls_problems_are_clear_errors_without_the_password(world: World, tls_servers, monkeypatch) -> None:
    _mailbox, starttls_port, implicit_port, cert = tls_servers
    untrusted = _send(world, implicit_port, "tls")  # the certificate is not trusted here
    assert untrusted.status_code == 502, untrusted.text
    assert "certificate" in untrusted.json()["detail"].lower()
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    plain = _send(world, starttls_port, "none")  # the server demands STARTTLS first
    wrong = _send(world, starttls_port, "starttls", password="wrong-password")
    for answer in (plain, wrong):
        assert answer.status_code == 502, answer.text
        assert SMTP_PASSWORD not in answer.text and "wrong-password" not in answer.text
    assert "user name or password" in wrong.json()["detail"]
