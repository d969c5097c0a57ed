"""Head sampling (``OTEL_TRACES_SAMPLER`` / ``OTEL_TRACES_SAMPLER_ARG``) on a real server: a new trace is
recorded at the configured ratio, a request whose ``traceparent`` was recorded upstream always is (in
the caller's trace), one whose caller did not record it never is, and every request, recorded or
not, keeps its request id and is counted in ``/metrics``."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx
import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.parser import text_string_to_metric_families

from tests.observability.conftest import METRICS_TOKEN, Server, wait_for
from tether import telemetry
from tether.errors import ConfigurationError
from tether.telemetry._sampling import DEFAULT_RATIO, sampler_from_env

RATIO = 0.25
HEALTH = "/api/v1/health"


@pytest.fixture(scope="module")
def spans() -> Iterator[InMemorySpanExporter]:
    """Overrides conftest's: this module's server records new traces at ``RATIO``, parent-based."""
    exporter = InMemorySpanExporter()
    sampler = sampler_from_env(
        {"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.25"}
    )
    telemetry.enable_tracing(SimpleSpanProcessor(exporter), sampler=sampler)
    yield exporter
    telemetry.disable_tracing()


def _roots(spans: InMemorySpanExporter, prefix: str) -> dict[str, object]:
    """The request spans of this test's requests (their ids start with ``prefix``), by request id."""
    found = {}
    for s in spans.get_finished_spans():
        request_id = str((s.attributes or {}).get("tether.request_id", ""))
        if request_id.startswith(prefix) and s.name.startswith("GET "):
            found[request_id] = s
    return found


def _health_count(server: Server) -> float:
    answer = httpx.get(f"{server.url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert answer.status_code == 200, answer.text
    return sum(
        sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
        if sample.name == "tether_http_requests_total" and sample.labels.get("route") == HEALTH
    )


def test_new_traces_are_recorded_at_the_ratio_and_every_request_keeps_its_id_and_metrics(
    server: Server, spans: InMemorySpanExporter
) -> None:
    before = _health_count(server)
    requests = 200
    for n in range(requests):
        answer = server.client.get(HEALTH, headers={"X-Request-Id": f"ratio-{n}"})
        assert answer.status_code == 200
        assert answer.headers["x-request-id"] == f"ratio-{n}"  # recorded or not
    assert _health_count(server) - before == requests  # every request counted, recorded or not
    recorded = len(_roots(spans, "ratio-"))
    # Binomial(200, 0.25): mean 50, standard deviation 6.1; these bounds are five deviations out
    # (and absorb the last span, which may end just after its answer arrived).
    assert 20 <= recorded <= 80, f"{recorded} of {requests} recorded at ratio {RATIO}"


def test_a_request_whose_caller_recorded_its_trace_is_always_recorded_in_that_trace(
    server: Server, spans: InMemorySpanExporter
) -> None:
    callers = {f"parent-{n}": (secrets.token_hex(16), secrets.token_hex(8)) for n in range(20)}
    for request_id, (trace_id, span_id) in callers.items():
        headers = {"X-Request-Id": request_id, "traceparent": f"00-{trace_id}-{span_id}-01"}
        assert server.client.get(HEALTH, headers=headers).status_code == 200
    roots = wait_for(lambda: (r := _roots(spans, "parent-")) and len(r) == len(callers) and r, "20 roots")
    for request_id, (trace_id, span_id) in callers.items():
        root = roots[request_id]
        assert format(root.context.trace_id, "032x") == trace_id  # type: ignore[attr-defined]
        assert format(root.parent.span_id, "016x") == span_id  # type: ignore[attr-defined]


def test_a_request_whose_caller_did_not_record_its_trace_is_not_recorded(
    server: Server, spans: InMemorySpanExporter
) -> None:
    before = _health_count(server)
    for n in range(20):
        headers = {
            "X-Request-Id": f"unsampled-{n}",
            "traceparent": f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-00",
        }
        answer = server.client.get(HEALTH, headers=headers)
        assert answer.headers["x-request-id"] == f"unsampled-{n}"
    assert _health_count(server) - before == 20
    assert _roots(spans, "unsampled-") == {}  # at 0.25 alone, about 5 of 20 would have been


def test_the_sampler_settings_follow_opentelemetry_and_bad_ones_are_refused() -> None:
    from opentelemetry.sdk.trace import sampling

    default = sampler_from_env({})
    assert isinstance(default, sampling.ParentBased)
    assert f"{DEFAULT_RATIO}" in default.get_description()
    assert f"{0.5}" in sampler_from_env({"OTEL_TRACES_SAMPLER_ARG": "0.5"}).get_description()
    assert sampler_from_env({"OTEL_TRACES_SAMPLER": "always_on"}) is sampling.ALWAYS_ON
    every = sampler_from_env({"OTEL_TRACES_SAMPLER": "parentbased_traceidratio"})  # no argument: 1.0
    assert "TraceIdRatioBased{1.0}" in every.get_description()
    with pytest.raises(ConfigurationError, match="use one of always_on, always_off"):
        sampler_from_env({"OTEL_TRACES_SAMPLER": "jaeger_remote"})
    for bad in ("1.5", "-0.1", "half", "nan"):
        with pytest.raises(ConfigurationError, match="give a number from 0 to 1"):
            sampler_from_env({"OTEL_TRACES_SAMPLER_ARG": bad})
