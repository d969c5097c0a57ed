"""URLs of the test authorization server."""

from __future__ import annotations

from django.urls import include, path

from tests.oauth_server import app

urlpatterns = [
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    path("api/me", app.me),
    path("api/reject", app.reject),
    path("api/poll", app.me),
    path("test/token-requests", app.token_requests),
    path("test/expire-tokens", app.expire_tokens),
    path("test/revoke-refresh-token", app.revoke_refresh_token),
]
