"""Prometheus metrics: what an operator graphs and alerts on, recorded only when asked for.

Off by default. When ``TETHER_METRICS_TOKEN`` is set the API serves ``/metrics`` (to that bearer
token only) and :func:`enable_metrics` creates the collectors; until then every ``count_*`` and
``observe_*`` function is one global read. Labels are bounded sets: route *templates* (never
raw paths), connector and flow ids, status codes and outcome words — no user input.

With ``tether serve --workers N`` each process counts its own calls: a scrape reaches one of
them (Prometheus' multiprocess mode is not used).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tether._extras import require_extra

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = [
    "METRICS_MEDIA_TYPE",
    "Metrics",
    "count_invoke",
    "count_request",
    "count_run",
    "count_token_refresh",
    "disable_metrics",
    "enable_metrics",
    "metrics_enabled",
    "observe_trigger_lag",
    "render_metrics",
    "set_queue_depth",
]

METRICS_MEDIA_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Seconds: an API call through Tether is a few ms; an upstream may take up to the 120 s deadline.
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
_LAG_BUCKETS = (0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)
QueueDepth = Callable[[], int | None]


class Metrics:
    """Tether's collectors, in a registry of their own (an embedding app's metrics stay apart)."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry: CollectorRegistry = CollectorRegistry()
        self.requests: Counter = Counter(
            "tether_http_requests",
            "API requests answered",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency: Histogram = Histogram(
            "tether_http_request_duration_seconds",
            "Time to answer an API request",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.invokes: Counter = Counter(
            "tether_invokes", "Connector operation calls", ["connector", "status"], registry=self.registry
        )
        self.runs: Counter = Counter(
            "tether_flow_runs", "Flow runs ended", ["flow", "status"], registry=self.registry
        )
        self.trigger_lag: Histogram = Histogram(
            "tether_trigger_lag_seconds",
            "How late a trigger fired after it was due",
            ["trigger"],
            buckets=_LAG_BUCKETS,
            registry=self.registry,
        )
        self.token_refreshes: Counter = Counter(
            "tether_token_refreshes", "OAuth token renewals by outcome", ["outcome"], registry=self.registry
        )
        self.queue_depth: Gauge = Gauge(
            "tether_queue_depth", "Runs waiting for a worker (distributed mode)", registry=self.registry
        )
        self.queue_source: QueueDepth | None = None
        # The labelled children, found by a dict lookup per request rather than by ``labels()``,
        # which validates, joins and locks on every call. The label sets are bounded (see above).
        self.children: dict[tuple[object, ...], Any] = {}

    def child(self, metric: Counter | Histogram, *labels: str) -> Any:
        """``metric.labels(*labels)``, made once."""
        key = (metric, *labels)
        found = self.children.get(key)
        if found is None:
            found = self.children[key] = metric.labels(*labels)
        return found


class _State:
    metrics: Metrics | None = None


_state = _State()


def enable_metrics() -> Metrics:
    """Create the collectors (once per process; later calls return the same ones)."""
    if _state.metrics is None:
        require_extra("prometheus_client", extra="observability", feature="TETHER_METRICS_TOKEN")
        _state.metrics = Metrics()
    return _state.metrics


def disable_metrics() -> None:
    """Forget the collectors (tests start from zero)."""
    _state.metrics = None


def metrics_enabled() -> bool:
    """Whether this process records metrics."""
    return _state.metrics is not None


def count_request(method: str, route: str, status: int, seconds: float) -> None:
    """One API request answered: ``route`` is its template (``/api/v1/environments/{env}/…``)."""
    m = _state.metrics
    if m is not None:
        m.child(m.requests, method, route, str(status)).inc()
        m.child(m.latency, method, route).observe(seconds)


def count_invoke(connector: str, status: int | str) -> None:
    """One operation call through a connection: the upstream status, or the error code when none came."""
    m = _state.metrics
    if m is not None:
        m.child(m.invokes, connector, str(status)).inc()


def count_run(flow: str, status: str) -> None:
    """One flow run ended with ``status`` (Succeeded, Failed, Cancelled)."""
    m = _state.metrics
    if m is not None:
        m.child(m.runs, flow or "-", status).inc()


def observe_trigger_lag(trigger: str, seconds: float) -> None:
    """A ``trigger`` kind (recurrence, polling) fired ``seconds`` after it was due."""
    m = _state.metrics
    if m is not None:
        m.trigger_lag.labels(trigger).observe(max(0.0, seconds))


def count_token_refresh(outcome: str) -> None:
    """One call to an OAuth token endpoint: ``renewed``, ``refused`` or ``failed``."""
    m = _state.metrics
    if m is not None:
        m.token_refreshes.labels(outcome).inc()


def set_queue_depth(source: QueueDepth) -> None:
    """Where the queue depth is read at each scrape (the broker's queue, in distributed mode)."""
    m = _state.metrics
    if m is not None:
        m.queue_source = source


def render_metrics() -> bytes:
    """The text exposition of every collector, the queue depth read first."""
    from prometheus_client import generate_latest

    m = enable_metrics()
    if m.queue_source is not None:
        depth = m.queue_source()
        if depth is not None:
            m.queue_depth.set(depth)
    return generate_latest(m.registry)
