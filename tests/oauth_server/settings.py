"""Django settings of the test authorization server (django-oauth-toolkit), configured by environment.

Only the subprocess started by ``fixtures.py`` imports this. ``OAUTH_TEST_DIR`` holds the SQLite
database; ``OAUTH_TEST_ACCESS_TOKEN_SECONDS`` sets the access token lifetime and
``OAUTH_TEST_REFRESH_GRACE_SECONDS`` the refresh-token grace period.
"""

from __future__ import annotations

import os
from pathlib import Path


def _rsa_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


DATA_DIR = Path(os.environ.get("OAUTH_TEST_DIR", "."))

SECRET_KEY = "test-only-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
ROOT_URLCONF = "tests.oauth_server.urls"
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "oauth2_provider",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tests.oauth_server.app.TestUserMiddleware",
    "tests.oauth_server.app.TokenRequestCounter",
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(DATA_DIR / "oauth.sqlite3")}}
# Fast password hashing: the client secrets are hashed on save and checked on every token request.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}]
LOGGING_CONFIG = None

OAUTH2_PROVIDER = {
    "PKCE_REQUIRED": True,
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ACCESS_TOKEN_EXPIRE_SECONDS": int(os.environ.get("OAUTH_TEST_ACCESS_TOKEN_SECONDS", "3600")),
    # How long a just-rotated refresh token may be sent again (a client that lost the answer).
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": int(os.environ.get("OAUTH_TEST_REFRESH_GRACE_SECONDS", "0")),
    "SCOPES": {
        "read": "Read",
        "write": "Write",
        "openid": "OpenID Connect",
        "profile": "Profile",
        "email": "Email",
    },
    "DEFAULT_SCOPES": ["read"],
    # OpenID Connect (single sign-on tests): a fresh signing key per server start, and a validator
    # that adds preferred_username and the groups claim (tests.oauth_server.app.GROUPS).
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": _rsa_key(),
    "OAUTH2_VALIDATOR_CLASS": "tests.oauth_server.app.ClaimsValidator",
}
