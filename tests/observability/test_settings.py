"""Where the observability settings come from: Tether's variables, or OpenTelemetry's standard one."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tether.config import load_settings


def test_the_otlp_endpoint_is_read_from_either_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TETHER_OTLP_ENDPOINT", raising=False)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    assert load_settings().otlp_endpoint == "http://collector:4318"
    monkeypatch.setenv("TETHER_OTLP_ENDPOINT", "http://tether-collector:4318")
    assert load_settings().otlp_endpoint == "http://tether-collector:4318"  # Tether's own wins
    assert load_settings(otlp_endpoint="http://flag:4318").otlp_endpoint == "http://flag:4318"


def test_observability_is_off_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "TETHER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "TETHER_METRICS_TOKEN",
        "TETHER_LOG_FORMAT",
    ):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert (settings.otlp_endpoint, settings.metrics_token, settings.log_format) == ("", None, "text")


def test_an_unknown_log_format_is_refused_naming_the_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TETHER_LOG_FORMAT", "xml")
    with pytest.raises(ValidationError, match="'text' or 'json'"):
        load_settings()
