"""Middleware and views of the test authorization server (loaded inside its Django process)."""

from __future__ import annotations

import json
import threading

from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.models import AccessToken, RefreshToken
from oauth2_provider.oauth2_backends import get_oauthlib_core
from oauth2_provider.oauth2_validators import OAuth2Validator

DEFAULT_USER = "alice"
USER_HEADER = "HTTP_X_TEST_USER"

# The groups claim each test user's ID token and userinfo carry (single sign-on tests).
GROUPS = {"alice": ["sales", "Staff Only!"], "carol": ["eng"], "dave": []}

_count_lock = threading.Lock()


class ClaimsValidator(OAuth2Validator):
    """Adds ``preferred_username`` and ``groups`` to ID tokens and userinfo, whatever the scopes."""

    oidc_claim_scope = None

    def get_additional_claims(self, request):
        name = request.user.username
        return {"preferred_username": name, "groups": GROUPS.get(name, [])}


_token_requests = 0


class TestUserMiddleware:
    """Logs every request in as a test user (``X-Test-User`` header, default ``alice``).

    The authorize view requires a logged-in user; a real server would show a login page.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/o/authorize"):
            name = request.META.get(USER_HEADER) or DEFAULT_USER
            user, _ = get_user_model().objects.get_or_create(username=name)
            request.user = user
        return self.get_response(request)


class TokenRequestCounter:
    """Counts POSTs to the token endpoint, for tests proving that concurrent callers refresh once."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        global _token_requests
        if request.method == "POST" and request.path == "/o/token/":
            with _count_lock:
                _token_requests += 1
        return self.get_response(request)


def token_requests(request: HttpRequest) -> JsonResponse:
    """``{"count": n}``: token endpoint POSTs since the server started."""
    return JsonResponse({"count": _token_requests})


@csrf_exempt
def expire_tokens(request: HttpRequest) -> JsonResponse:
    """Expire every access token now (the server then answers 401 to them)."""
    past = timezone.now() - timezone.timedelta(seconds=1)
    count = AccessToken.objects.update(expires=past)
    return JsonResponse({"expired": count})


@csrf_exempt
def revoke_refresh_token(request: HttpRequest) -> JsonResponse:
    """Revoke one refresh token (body ``{"token": ...}``) as an admin would, via the model's own revoke()."""
    token = json.loads(request.body or b"{}").get("token", "")
    found = RefreshToken.objects.filter(token=token, revoked__isnull=True).first()
    if found is not None:
        found.revoke()
    return JsonResponse({"revoked": found is not None})


def me(request: HttpRequest) -> JsonResponse:
    """A protected resource: who the bearer token belongs to.

    Answers 401 with ``WWW-Authenticate: Bearer error="invalid_token"`` (RFC 6750) for a missing,
    expired or revoked token, as production APIs do (django-oauth-toolkit's decorator says 403).
    """
    valid, oauth_request = get_oauthlib_core().verify_request(request, scopes=["read"])
    if not valid:
        response = JsonResponse({"error": "invalid_token"}, status=401)
        response["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return response
    token = oauth_request.access_token
    user = token.user.username if token.user else None
    return JsonResponse({"user": user, "client_id": token.application.client_id, "scope": token.scope})


def reject(request: HttpRequest) -> JsonResponse:
    """An API that refuses every token, valid or not (an audience it does not accept): always 401."""
    response = JsonResponse({"error": "invalid_token"}, status=401)
    response["WWW-Authenticate"] = (
        'Bearer error="invalid_token", error_description="the token is not for this audience"'
    )
    return response
