"""Regression tests for what schemathesis found (tests/api/test_schemathesis.py)."""

from __future__ import annotations

from urllib.parse import quote

from tests.api.conftest import Api


def test_a_non_ascii_trigger_signature_is_refused_not_a_server_error(api: Api) -> None:
    """``hmac.compare_digest`` raises TypeError on non-ASCII str: the signature check was a 500."""
    for route in ("invoke", "paths/invoke/x"):
        answer = api.client.post(f"/api/v1/flows/f/triggers/manual/{route}?sig={quote('©')}")
        assert answer.status_code == 401, answer.text
        assert answer.json()["code"] == "unauthenticated"
