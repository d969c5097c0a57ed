"""The ``oauth_server`` fixture: a real OAuth 2.0 authorization server (django-oauth-toolkit).

Started once per test session (per xdist worker) in a subprocess on a free 127.0.0.1 port, with its
SQLite database in a temporary folder; stopped and removed at the end. It enforces what production
servers enforce: PKCE S256 (required), exact redirect URIs (any loopback port, RFC 8252), refresh-token
rotation with reuse protection, client authentication. Use it from a conftest::

    from tests.oauth_server.fixtures import oauth_server  # noqa: F401  (re-exported fixture)

    def test_x(oauth_server):
        settings = oauth_server.oauth_settings()            # an OAuthSettings for provider_for
        code, state = oauth_server.authorize(url)           # drive the consent redirect
        oauth_server.token_requests()                       # token endpoint POSTs so far
        oauth_server.expire_tokens(); oauth_server.revoke_refresh_token(token)

Test-only endpoints: ``/api/me`` (protected resource, scope ``read``), ``/test/token-requests``,
``/test/expire-tokens``, ``/test/revoke-refresh-token``. Pick the consenting user with ``user=``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import selectors
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tether.definition import OAuthSettings

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0
ACCESS_TOKEN_SECONDS = 3600


@dataclasses.dataclass
class OAuthServer:
    """A running test authorization server and its registered clients."""

    base_url: str
    web_client_id: str
    web_client_secret: str
    service_client_id: str
    service_client_secret: str
    log_path: Path
    sso_client_id: str = ""
    sso_client_secret: str = ""

    @property
    def issuer(self) -> str:
        """The OpenID Connect issuer (discovery at ``{issuer}/.well-known/openid-configuration``)."""
        return f"{self.base_url}/o"

    @property
    def redirect_uri(self) -> str:
        """A registered redirect URI (per-connector shape) on a loopback port."""
        return "http://127.0.0.1:8765/redirect/conn-1"

    @property
    def authorization_url(self) -> str:
        return f"{self.base_url}/o/authorize/"

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/o/token/"

    def oauth_settings(self, *, client: str = "web", scopes: list[str] | None = None) -> OAuthSettings:
        """``oAuthSettings`` (identityProvider ``oauth2``) pointing at this server, as a connector has."""
        web = client == "web"
        return OAuthSettings.model_validate(
            {
                "identityProvider": "oauth2",
                "clientId": self.web_client_id if web else self.service_client_id,
                "clientSecret": self.web_client_secret if web else self.service_client_secret,
                "scopes": ["read"] if scopes is None else scopes,
                "redirectMode": "GlobalPerConnector",
                "customParameters": {
                    "authorizationUrl": {"value": self.authorization_url},
                    "tokenUrl": {"value": self.token_url},
                    "refreshUrl": {"value": self.token_url},
                },
            }
        )

    def authorize(self, url: str, *, user: str = "alice") -> tuple[str, str]:
        """Follow an authorization URL as ``user`` would (consent is automatic): ``(code, state)``.

        Raises ``AssertionError`` with the server's answer when it does not redirect back with a code.
        """
        response = httpx.get(url, headers={"X-Test-User": user}, follow_redirects=False)
        location = response.headers.get("Location", "")
        query = parse_qs(urlsplit(location).query)
        if response.status_code != 302 or "code" not in query:
            raise AssertionError(f"no code: HTTP {response.status_code} {location or response.text[:300]}")
        return query["code"][0], query.get("state", [""])[0]

    def token_requests(self) -> int:
        """How many token endpoint POSTs the server has received."""
        return int(httpx.get(f"{self.base_url}/test/token-requests").json()["count"])

    def expire_tokens(self) -> int:
        """Expire every access token at the server; returns how many."""
        return int(httpx.post(f"{self.base_url}/test/expire-tokens").json()["expired"])

    def revoke_refresh_token(self, token: str) -> bool:
        """Revoke a refresh token (and its access token) at the server."""
        response = httpx.post(f"{self.base_url}/test/revoke-refresh-token", json={"token": token})
        return bool(response.json()["revoked"])

    def log(self) -> str:
        """The server's request log (for failure messages)."""
        return self.log_path.read_text(errors="replace")


def _read_ready_line(process: subprocess.Popen[bytes], log_path: Path) -> dict[str, Any]:
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if selector.select(timeout=0.2):
            line = process.stdout.readline()
            if line:
                return dict(json.loads(line))
        if process.poll() is not None:
            break
    raise RuntimeError(
        f"the OAuth test server did not start:\n{log_path.read_text(errors='replace')[-3000:]}"
    )


@contextlib.contextmanager
def running_oauth_server(
    *, access_token_seconds: int = ACCESS_TOKEN_SECONDS, refresh_grace_seconds: int = 0
) -> Iterator[OAuthServer]:
    """Start a django-oauth-toolkit server (token lifetime and refresh-token grace period as given)."""
    pytest.importorskip("oauth2_provider", reason="pip install django-oauth-toolkit (dev extras)")
    folder = Path(tempfile.mkdtemp(prefix="tether-oauth-"))
    log_path = folder / "server.log"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        "DJANGO_SETTINGS_MODULE": "tests.oauth_server.settings",
        "OAUTH_TEST_DIR": str(folder),
        "OAUTH_TEST_ACCESS_TOKEN_SECONDS": str(access_token_seconds),
        "OAUTH_TEST_REFRESH_GRACE_SECONDS": str(refresh_grace_seconds),
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.oauth_server.serve"],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
        )
    try:
        ready = _read_ready_line(process, log_path)
        clients = ready["clients"]
        yield OAuthServer(
            base_url=f"http://127.0.0.1:{ready['port']}",
            web_client_id=clients["web"]["client_id"],
            web_client_secret=clients["web"]["client_secret"],
            service_client_id=clients["service"]["client_id"],
            service_client_secret=clients["service"]["client_secret"],
            log_path=log_path,
            sso_client_id=clients["sso"]["client_id"],
            sso_client_secret=clients["sso"]["client_secret"],
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def oauth_server() -> Iterator[OAuthServer]:
    """A running django-oauth-toolkit server for this test session (hour-long tokens)."""
    with running_oauth_server() as server:
        yield server
