"""A connector that passes certification (the Greeter), the HTTPS service it calls, and a PNG maker.

Certification requires HTTPS, so the service is served over TLS with a certificate from a CA made
for the test run; the Tether server under test trusts that CA through its connector runtime's
transport (the same GuardedTransport production uses, given an SSL context).
"""

from __future__ import annotations

import datetime
import io
import json
import secrets
import ssl
import struct
import threading
import time
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tether.api import free_port

API_KEY = "greeter-" + secrets.token_hex(8)
README = "# Greeter\n\nGreets people by name. Prerequisites: an API key from the Greeter service.\n"


def png(width: int, height: int) -> bytes:
    """A valid PNG of the given size (one grey pixel row repeated), built by hand: no image library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def definition(host: str, **changes: Any) -> dict[str, Any]:
    """The Greeter's Swagger 2.0 definition: every certification rule satisfied."""
    doc: dict[str, Any] = {
        "swagger": "2.0",
        "info": {
            "title": "Greeter",
            "description": "Greets people by name and reports its own status; a small service for tests.",
            "version": "1.0",
            "contact": {"name": "Tether tests", "email": "support@example.test"},
        },
        "host": host,
        "basePath": "/v1",
        "schemes": ["https"],
        "produces": ["application/json"],
        "paths": {
            "/status": {
                "get": {
                    "operationId": "GetStatus",
                    "summary": "Get status",
                    "description": "Reports whether the service is up and accepts the key.",
                    "responses": {
                        "200": {"description": "The status.", "schema": {"$ref": "#/definitions/Status"}}
                    },
                }
            },
            "/greet": {
                "get": {
                    "operationId": "Greet",
                    "summary": "Greet someone",
                    "description": "Returns a greeting for the given name.",
                    "parameters": [
                        {
                            "name": "name",
                            "in": "query",
                            "required": True,
                            "type": "string",
                            "x-ms-summary": "Name",
                            "description": "Who to greet.",
                        }
                    ],
                    "responses": {
                        "200": {"description": "The greeting.", "schema": {"$ref": "#/definitions/Greeting"}}
                    },
                }
            },
        },
        "definitions": {
            "Status": {
                "type": "object",
                "properties": {"status": {"type": "string", "x-ms-summary": "Status", "description": "ok."}},
            },
            "Greeting": {
                "type": "object",
                "properties": {
                    "message": {"type": "string", "x-ms-summary": "Message", "description": "The greeting."}
                },
            },
        },
        "securityDefinitions": {"api_key": {"type": "apiKey", "in": "header", "name": "X-Api-Key"}},
        "security": [{"api_key": []}],
        "x-ms-capabilities": {"testConnection": {"operationId": "GetStatus", "parameters": {}}},
        "x-ms-connector-metadata": [
            {"propertyName": "Website", "propertyValue": "https://example.test"},
            {"propertyName": "Privacy policy", "propertyValue": "https://example.test/privacy"},
            {"propertyName": "Categories", "propertyValue": "Productivity"},
        ],
    }
    doc.update(changes)
    return doc


def properties(**changes: Any) -> dict[str, Any]:
    inner: dict[str, Any] = {
        "connectionParameters": {
            "api_key": {
                "type": "securestring",
                "uiDefinition": {
                    "displayName": "API Key",
                    "description": "Your Greeter API key.",
                    "tooltip": "Provide your API key",
                    "constraints": {"tabIndex": 2, "clearText": False, "required": "true"},
                },
            }
        },
        "iconBrandColor": "#1f6feb",
        "capabilities": [],
        "publisher": "Tether tests",
        "stackOwner": "Tether tests",
    }
    inner.update(changes)
    return {"properties": inner}


def package_zip(doc: dict[str, Any], props: dict[str, Any] | None = None, icon: bytes | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("apiDefinition.swagger.json", json.dumps(doc))
        archive.writestr("apiProperties.json", json.dumps(props if props is not None else properties()))
        if icon is not None:
            archive.writestr("icon.png", icon)
    return buffer.getvalue()


def greeter_service() -> Starlette:
    """The Greeter: GET /v1/status and GET /v1/greet, both needing the API key."""

    def authorized(request: Request) -> bool:
        return secrets.compare_digest(request.headers.get("x-api-key", ""), API_KEY)

    async def status(request: Request) -> JSONResponse:
        if not authorized(request):
            return JSONResponse({"error": "bad key"}, status_code=401)
        return JSONResponse({"status": "ok"})

    async def greet(request: Request) -> JSONResponse:
        if not authorized(request):
            return JSONResponse({"error": "bad key"}, status_code=401)
        return JSONResponse({"message": f"Hello, {request.query_params.get('name', '')}"})

    return Starlette(routes=[Route("/v1/status", status), Route("/v1/greet", greet)])


def redirect_service() -> FastAPI:
    """A plain HTTP service whose ``GET /go?to=URL`` answers 302 to ``URL`` (for the Http action)."""
    app = FastAPI()

    @app.get("/go")
    def go(to: str) -> RedirectResponse:
        return RedirectResponse(to, status_code=302)

    return app


@dataclass
class Tls:
    """A CA and a server certificate for 127.0.0.1 signed by it (files in ``folder``)."""

    ca_file: Path
    cert_file: Path
    key_file: Path

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))


def make_tls(folder: Path) -> Tls:
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Tether test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    tls = Tls(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    tls.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    tls.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    tls.key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return tls


@contextmanager
def serve_tls(app: Starlette, tls: Tls) -> Iterator[str]:
    """Serve ``app`` over HTTPS on a free loopback port; yield ``host:port``; stop and join on exit."""
    port = free_port("127.0.0.1")
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        ssl_certfile=str(tls.cert_file),
        ssl_keyfile=str(tls.key_file),
        lifespan="off",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"greeter-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the Greeter did not start"
        time.sleep(0.01)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
