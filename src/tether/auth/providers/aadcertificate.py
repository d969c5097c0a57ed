"""``identityProvider: aadcertificate``: Entra ID with a certificate instead of a client secret.

The client proves itself with a JWT signed by the certificate's private key (RFC 7523
``private_key_jwt``), built by authlib's ``PrivateKeyJWT``. Entra finds the certificate by its
thumbprint, so the JWT header carries ``x5t`` (SHA-1) and ``x5t#S256``.

The certificate comes from the ``clientCertificate`` connection/custom parameter, or else the client
secret slot: PEM text holding the private key (and the certificate, for the thumbprint), or base64 of a
PKCS#12 (.pfx) file with its password in ``clientCertificatePassword``.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses

import httpx
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12

from tether.auth.providers._base import (
    AsyncOAuth2Client,  # imported there without authlib's nudge
    OAuthProvider,
)
from tether.auth.providers._inputs import ProviderInputs
from tether.auth.providers.aad import aad_settings
from tether.errors import InputError

__all__ = ["CertificateProvider", "build_aadcertificate", "load_certificate"]


def load_certificate(data: str, password: str | None = None) -> tuple[str, dict[str, str]]:
    """The private key as PEM and the JWT header fields (thumbprints) from PEM or base64 PKCS#12 text."""
    secret = password.encode() if password else None
    cert: x509.Certificate | None = None
    key: PrivateKeyTypes | None
    try:
        if "-----BEGIN" in data:
            key = serialization.load_pem_private_key(data.encode(), password=secret)
            if "CERTIFICATE-----" in data:
                cert = x509.load_pem_x509_certificate(data.encode())
        else:
            key, cert, _chain = pkcs12.load_key_and_certificates(base64.b64decode(data), secret)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise InputError(
            "aadcertificate: the client certificate is neither a PEM private key nor a base64 PKCS#12 "
            "file that opens with the given password"
        ) from exc
    if key is None:
        raise InputError("aadcertificate: the PKCS#12 file holds no private key")
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    header: dict[str, str] = {}
    if cert is not None:
        # SHA-1 here is an identifier the protocol defines (x5t), not a security hash.
        header["x5t"] = _b64url(cert.fingerprint(hashes.SHA1()))
        header["x5t#S256"] = _b64url(cert.fingerprint(hashes.SHA256()))
    return pem, header


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class CertificateProvider(OAuthProvider):
    """Entra ID authenticating the client with a signed assertion instead of a secret."""

    name = "aadcertificate"

    def __init__(self, inputs: ProviderInputs, *, http_client: httpx.AsyncClient | None = None) -> None:
        material = inputs.value("clientCertificate") or inputs.client_secret
        if not material:
            raise InputError(
                "aadcertificate needs the client certificate (PEM or base64 PKCS#12) in the "
                "'clientCertificate' parameter or the client secret"
            )
        pem, self._jwt_header = load_certificate(material, inputs.value("clientCertificatePassword"))
        endpoints, scopes, quirks = aad_settings(inputs)
        super().__init__(
            client_id=inputs.client_id,
            client_secret=pem,
            endpoints=endpoints,
            scopes=scopes,
            quirks=dataclasses.replace(quirks, auth_method=PrivateKeyJWT.name),
            http_client=http_client,
        )

    def _configure(self, client: AsyncOAuth2Client) -> None:
        # The audience is the token endpoint the assertion is sent to (authlib's default).
        client.register_client_auth_method(PrivateKeyJWT(headers=dict(self._jwt_header), alg="RS256"))


def build_aadcertificate(inputs: ProviderInputs, http_client: httpx.AsyncClient | None) -> OAuthProvider:
    """An Entra ID client using a certificate assertion."""
    return CertificateProvider(inputs, http_client=http_client)
