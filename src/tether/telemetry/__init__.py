"""Operations: traces (OpenTelemetry), metrics (Prometheus), JSON logs, and the ids that join them.

Shared by every layer, like ``errors``: the API opens a request's span, services, the runtime and
the flow engine open theirs beneath it. Everything is off (one global read per call site) until
the server turns it on from its settings; the OpenTelemetry SDK and ``prometheus_client`` come
with the ``observability`` extra and are imported only then.
"""

from tether.telemetry._context import (
    current_request_id,
    current_run_id,
    request_id_from,
    running,
    set_request_id,
)
from tether.telemetry._logs import LOG_FORMATS, JsonFormatter, configure_logs
from tether.telemetry._metrics import (
    METRICS_MEDIA_TYPE,
    count_invoke,
    count_request,
    count_run,
    count_token_refresh,
    disable_metrics,
    enable_metrics,
    metrics_enabled,
    observe_trigger_lag,
    render_metrics,
    set_queue_depth,
)
from tether.telemetry._tracing import (
    NO_SPAN,
    SpanHandle,
    configure_tracing,
    disable_tracing,
    enable_tracing,
    span,
    tracing,
)

__all__ = [
    "LOG_FORMATS",
    "METRICS_MEDIA_TYPE",
    "NO_SPAN",
    "JsonFormatter",
    "SpanHandle",
    "configure_logs",
    "configure_tracing",
    "count_invoke",
    "count_request",
    "count_run",
    "count_token_refresh",
    "current_request_id",
    "current_run_id",
    "disable_metrics",
    "disable_tracing",
    "enable_metrics",
    "enable_tracing",
    "metrics_enabled",
    "observe_trigger_lag",
    "render_metrics",
    "request_id_from",
    "running",
    "set_queue_depth",
    "set_request_id",
    "span",
    "tracing",
]
