"""Secrets are masked in log lines."""

from __future__ import annotations

import logging

import pytest

from tether.secrets import REDACTED, RedactingFilter, redact


@pytest.mark.parametrize(
    ("text", "secrets", "expected"),
    [
        pytest.param("key=abc123 ok", ["abc123"], "key=*** ok", id="plain"),
        pytest.param("GET /x?k=a%2Fb%3D", ["a/b="], "GET /x?k=***", id="percent-encoded"),
        pytest.param("q=a+b", ["a b"], "q=***", id="plus-encoded"),
        pytest.param("tok-long tok", ["tok", "tok-long"], "*** ***", id="longest-first"),
        pytest.param("nothing here", ["", "zzz"], "nothing here", id="empty-and-absent"),
    ],
)
def test_redact(text: str, secrets: list[str], expected: str) -> None:
    assert redact(text, secrets) == expected


def test_filter_masks_message_args_and_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("tether.test.redact")
    redactor = RedactingFilter()
    caplog.handler.addFilter(redactor)
    try:
        redactor.register("sk_live_42", "")
        logger.warning("calling with key %s", "sk_live_42")
        try:
            raise RuntimeError("upstream said sk_live_42 is wrong")
        except RuntimeError:
            logger.exception("failed")
        redactor.unregister("sk_live_42")
        logger.warning("after %s", "sk_live_42")
    finally:
        caplog.handler.removeFilter(redactor)
    assert caplog.records[0].getMessage() == f"calling with key {REDACTED}"
    assert "sk_live_42" not in caplog.text.split("after")[0]
    assert "upstream said *** is wrong" in caplog.text
    assert caplog.records[-1].getMessage() == "after sk_live_42"
    assert "sk_live_42" not in repr(redactor)


def test_log_redaction_masks_the_base64_form_of_a_secret() -> None:
    """A Basic header or a base64 body in a third-party log line carries the secret encoded."""
    import base64

    encoded = base64.b64encode(b"user:s3cret-pass").decode()
    assert redact(f"Authorization: Basic {encoded}", ["user:s3cret-pass"]) == "Authorization: Basic ***"
