"""OpenTelemetry spans across API → services → runtime → outbound call, and flow run → action.

Tracing is off unless an OTLP endpoint is configured (``TETHER_OTLP_ENDPOINT`` or the standard
``OTEL_EXPORTER_OTLP_ENDPOINT``) or a test installs its own provider. Off, :func:`span` is one
global read returning a shared null span: no OpenTelemetry import, no allocation on the hot path.

Attributes are what an operator needs to see where time goes and nothing that could be a
secret: ids (connector, connection, operation, flow, run, request), methods, host names, status
codes, attempts. Never header values, query values, bodies or URLs with their queries; an
exception is recorded by its type, not its message. :func:`span` enforces the shape (scalars,
strings cut at 256 characters); the call sites choose only such facts.
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Any

from tether._extras import require_extra
from tether.telemetry._context import current_request_id, current_run_id

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
    from opentelemetry.trace import Span, Tracer

__all__ = [
    "NO_SPAN",
    "SpanHandle",
    "configure_tracing",
    "disable_tracing",
    "enable_tracing",
    "span",
    "tracing",
]

Attribute = str | int | float | bool
_MAX_TEXT = 256


class SpanHandle:
    """The span of a ``with span(...)`` block; :meth:`set` adds a fact learnt inside it (a status)."""

    def __enter__(self) -> SpanHandle:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    def set(self, key: str, value: Attribute | None) -> None:
        """Record ``key`` on the span (nothing when tracing is off)."""

    def rename(self, name: str) -> None:
        """Rename the span once more is known (the route template, after routing)."""


NO_SPAN = SpanHandle()  # the null object handed out while tracing is off


class _LiveSpan(SpanHandle):
    __slots__ = ("_manager", "_span")

    def __init__(self, tracer: Tracer, name: str, attributes: dict[str, Attribute]) -> None:
        self._manager = tracer.start_as_current_span(
            name, attributes=attributes, record_exception=False, set_status_on_exception=False
        )
        self._span: Span | None = None

    def __enter__(self) -> SpanHandle:
        self._span = self._manager.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is not None and self._span is not None:
            from opentelemetry.trace import Status, StatusCode

            # The type and stable code only: a message may quote what the user sent.
            code = getattr(exc, "code", None)
            self._span.set_attribute("error.type", str(code) if isinstance(code, str) else type(exc).__name__)
            self._span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
        self._manager.__exit__(kind, exc, tb)

    def set(self, key: str, value: Attribute | None) -> None:
        if self._span is not None and value is not None:
            self._span.set_attribute(key, _clean(value))

    def rename(self, name: str) -> None:
        if self._span is not None:
            self._span.update_name(name)


class _State:
    tracer: Tracer | None = None
    provider: TracerProvider | None = None


_state = _State()


def span(name: str, attributes: dict[str, Attribute | None] | None = None) -> SpanHandle:
    """A span named ``name`` around a ``with`` block, child of the current one; a null span when off.

    The current request and run ids are added, so a trace found from a log line (or the other
    way round) names the same request.
    """
    tracer = _state.tracer
    if tracer is None:
        return NO_SPAN
    clean = {k: _clean(v) for k, v in (attributes or {}).items() if v is not None}
    if request_id := current_request_id():
        clean["tether.request_id"] = request_id
    if run_id := current_run_id():
        clean["tether.run_id"] = run_id
    return _LiveSpan(tracer, name, clean)


def tracing() -> bool:
    """Whether spans are being recorded in this process."""
    return _state.tracer is not None


def _clean(value: Any) -> Attribute:
    if isinstance(value, bool | int | float):
        return value
    return str(value)[:_MAX_TEXT]


def enable_tracing(*processors: SpanProcessor) -> TracerProvider:
    """Record spans through ``processors`` (an OTLP exporter's, a test's in-memory one) from now on.

    Tether keeps its own provider rather than the global one, so an embedding application's
    tracing set-up is left as it was.
    """
    require_extra("opentelemetry.sdk", extra="observability", feature="tracing")
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    disable_tracing()
    provider = TracerProvider(resource=Resource.create({"service.name": "tether"}))
    for processor in processors:
        provider.add_span_processor(processor)
    _state.provider, _state.tracer = provider, provider.get_tracer("tether")
    return provider


def configure_tracing(endpoint: str) -> TracerProvider:
    """Export spans by OTLP (HTTP/protobuf) to ``endpoint`` (``http://collector:4318``), batched."""
    require_extra(
        "opentelemetry.exporter.otlp.proto.http", extra="observability", feature="TETHER_OTLP_ENDPOINT"
    )
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    url = endpoint.rstrip("/")
    if not url.endswith("/v1/traces"):
        url += "/v1/traces"  # the OTLP/HTTP path, as OTEL_EXPORTER_OTLP_ENDPOINT is a base URL
    return enable_tracing(BatchSpanProcessor(OTLPSpanExporter(endpoint=url)))


def disable_tracing() -> None:
    """Stop recording; flush and shut down what :func:`enable_tracing` started."""
    provider, _state.provider, _state.tracer = _state.provider, None, None
    if provider is not None:
        provider.shutdown()
