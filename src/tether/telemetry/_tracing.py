"""OpenTelemetry spans across API → services → runtime → outbound call, and flow run → action.

Tracing is off unless an OTLP endpoint is configured (``TETHER_OTLP_ENDPOINT`` or the standard
``OTEL_EXPORTER_OTLP_ENDPOINT``) or a test installs its own provider. Off, :func:`span` is one
global read returning a shared null span: no OpenTelemetry import, no allocation on the hot path.
On, a root span asks the sampler (:mod:`._sampling`: one new trace in 20 by default, every trace
a caller recorded); under a root it passed over, every span is the null span again, one context
variable read, so an unrecorded request costs one sampler call rather than four SDK spans.

Attributes are what an operator needs to see where time goes and nothing that could be a
secret: ids (connector, connection, operation, flow, run, request), methods, host names, status
codes, attempts. Never header values, query values, bodies or URLs with their queries; an
exception is recorded by its type, not its message. :func:`span` enforces the shape (scalars,
strings cut at 256 characters); the call sites choose only such facts.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
from collections.abc import Callable, Mapping
from contextvars import ContextVar, Token
from random import getrandbits
from types import TracebackType
from typing import TYPE_CHECKING, Any

from tether._extras import require_extra
from tether.telemetry._context import current_request_id, current_run_id
from tether.telemetry._sampling import sampler_from_env

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
    from opentelemetry.sdk.trace.sampling import Sampler
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
_LOW_64 = (1 << 64) - 1  # the part of a trace id the SDK's ratio sampler compares


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
    """A span that asks the SDK on entry: recorded, or (a root the sampler passed over) not.

    Entering sets the context the SDK's children find their parent in, and Tether's own
    sampled flag, which lets every span under an unrecorded root return :data:`NO_SPAN` without
    asking the SDK again (most requests, with head sampling, cost one sampler call).
    """

    __slots__ = (
        "_attributes",
        "_context_token",
        "_name",
        "_parent",
        "_sampled_token",
        "_span",
        "_trace_id",
        "_tracer",
    )

    def __init__(
        self,
        tracer: Tracer,
        name: str,
        attributes: dict[str, Attribute],
        parent: Context | None,
        trace_id: int = 0,
    ) -> None:
        self._tracer, self._name, self._attributes, self._parent = tracer, name, attributes, parent
        self._trace_id = trace_id  # drawn by :func:`span` for a root it already knows is recorded
        self._span: Span | None = None
        self._context_token: object = None
        self._sampled_token: Token[bool | None] | None = None

    def __enter__(self) -> SpanHandle:
        if self._trace_id:
            _ids.preset.trace_id = self._trace_id
        started = self._tracer.start_span(
            self._name,
            context=self._parent,
            attributes=self._attributes,
            record_exception=False,
            set_status_on_exception=False,
        )
        if not started.is_recording():
            self._sampled_token = _sampled.set(False)
            return self
        self._span = started
        self._context_token = _state.attach(_state.set_span_in_context(started))
        self._sampled_token = _sampled.set(True)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        live = self._span
        if live is not None:
            if exc is not None:
                from opentelemetry.trace import Status, StatusCode

                # The type and stable code only: a message may quote what the user sent.
                code = getattr(exc, "code", None)
                live.set_attribute("error.type", str(code) if isinstance(code, str) else type(exc).__name__)
                live.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            live.end()
            _state.detach(self._context_token)
        if self._sampled_token is not None:
            # Left in another context than it was entered in: nothing to restore there.
            with contextlib.suppress(ValueError):
                _sampled.reset(self._sampled_token)

    def set(self, key: str, value: Attribute | None) -> None:
        if self._span is not None and value is not None:
            self._span.set_attribute(key, _clean(value))

    def rename(self, name: str) -> None:
        if self._span is not None:
            self._span.update_name(name)


class _Unrecorded(SpanHandle):
    """A root the sampler passed over: within it every span is :data:`NO_SPAN`."""

    __slots__ = ("_token",)

    def __enter__(self) -> SpanHandle:
        self._token = _sampled.set(False)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        with contextlib.suppress(ValueError):  # left in another context: nothing to restore there
            _sampled.reset(self._token)


class _Ids:
    """The trace id :func:`span` drew for a root, handed to the SDK's id generator (per thread)."""

    def __init__(self) -> None:
        self.preset = threading.local()

    def generate_trace_id(self, fallback: Callable[[], int]) -> int:
        trace_id: int = getattr(self.preset, "trace_id", 0)
        if trace_id:
            self.preset.trace_id = 0
            return trace_id
        return fallback()


_ids = _Ids()


class _State:
    tracer: Tracer | None = None
    # A new trace (no parent) is recorded when its id's low 64 bits are below this, as the SDK's
    # TraceIdRatioBased sampler decides; None when the sampler is not a ratio one (the SDK decides).
    root_bound: int | None = None
    provider: TracerProvider | None = None
    # The SDK's context functions, looked up once rather than imported on every span.
    attach: Callable[[Context], object]
    detach: Callable[[Any], None]
    set_span_in_context: Callable[[Span], Context]
    extract: Callable[[dict[str, str]], Context]
    current_span: Callable[[], Span]


_state = _State()
# Within a span: whether its trace is recorded. ``None`` outside any: the next span is a root,
# and the sampler decides.
_sampled: ContextVar[bool | None] = ContextVar("tether_trace_sampled", default=None)


def span(
    name: str, attributes: dict[str, Attribute | None] | None = None, *, traceparent: str | None = None
) -> SpanHandle:
    """A span named ``name`` around a ``with`` block, child of the current one; a null span when off.

    The current request and run ids are added, so a trace found from a log line (or the other
    way round) names the same request. ``traceparent`` (a W3C header a caller sent) makes a root
    span the child of the caller's: recorded whenever the caller recorded it.
    """
    tracer = _state.tracer
    if tracer is None:
        return NO_SPAN
    sampled = _sampled.get()
    if sampled is False:
        return NO_SPAN  # under a root the sampler passed over
    parent: Context | None = None
    trace_id = 0
    if sampled is None:  # a root
        if traceparent:
            parent = _state.extract({"traceparent": traceparent})
        elif _state.root_bound is not None and not _state.current_span().get_span_context().is_valid:
            # A new trace (no embedding application's span is current): decided here by the SDK's
            # own rule on a trace id drawn here and handed to the SDK if recorded, so the common
            # request under head sampling allocates no SDK span, context or sampling result.
            trace_id = getrandbits(128) or 1
            if trace_id & _LOW_64 >= _state.root_bound:
                return _Unrecorded()
    clean = {k: _clean(v) for k, v in (attributes or {}).items() if v is not None}
    if request_id := current_request_id():
        clean["tether.request_id"] = request_id
    if run_id := current_run_id():
        clean["tether.run_id"] = run_id
    return _LiveSpan(tracer, name, clean, parent, trace_id)


def tracing() -> bool:
    """Whether spans are being recorded in this process."""
    return _state.tracer is not None


def current_trace_id() -> str:
    """The id of the recorded trace the current task is in (32 hex digits), or ``""``: for log lines."""
    if _state.tracer is None or not _sampled.get():
        return ""
    context = _state.current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else ""


def _clean(value: Any) -> Attribute:
    if isinstance(value, bool | int | float):
        return value
    return str(value)[:_MAX_TEXT]


def enable_tracing(*processors: SpanProcessor, sampler: Sampler | None = None) -> TracerProvider:
    """Record spans through ``processors`` (an OTLP exporter's, a test's in-memory one) from now on.

    ``sampler`` decides which new traces are recorded; without one, every trace is (what a test
    collecting spans wants). Tether keeps its own provider rather than the global one, so an
    embedding application's tracing set-up is left as it was.
    """
    require_extra("opentelemetry.sdk", extra="observability", feature="tracing")
    from opentelemetry import context, trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider, sampling
    from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    disable_tracing()
    sampler = sampler or sampling.ParentBased(sampling.ALWAYS_ON)
    ids = RandomIdGenerator()
    ids.generate_trace_id = functools.partial(_ids.generate_trace_id, ids.generate_trace_id)  # type: ignore[method-assign]
    provider = TracerProvider(
        resource=Resource.create({"service.name": "tether"}), sampler=sampler, id_generator=ids
    )
    # ParentBased keeps its root sampler in ``_root`` (no public accessor).
    root = getattr(sampler, "_root", sampler)
    _state.root_bound = (
        root.bound
        if isinstance(root, sampling.TraceIdRatioBased)
        else 0
        if root is sampling.ALWAYS_OFF
        else None
    )
    for processor in processors:
        provider.add_span_processor(processor)
    _state.attach, _state.detach = context.attach, context.detach
    _state.set_span_in_context = trace.set_span_in_context
    _state.extract = TraceContextTextMapPropagator().extract
    _state.current_span = trace.get_current_span
    _state.provider, _state.tracer = provider, provider.get_tracer("tether")
    return provider


def configure_tracing(endpoint: str, environ: Mapping[str, str] | None = None) -> TracerProvider:
    """Export spans by OTLP (HTTP/protobuf) to ``endpoint`` (``http://collector:4318``), batched on the
    SDK's background thread, for the traces ``OTEL_TRACES_SAMPLER`` in ``environ`` (the process's
    environment) selects — by default one new trace in 20 and every trace a caller recorded."""
    require_extra(
        "opentelemetry.exporter.otlp.proto.http", extra="observability", feature="TETHER_OTLP_ENDPOINT"
    )
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    sampler = sampler_from_env(os.environ if environ is None else environ)
    url = endpoint.rstrip("/")
    if not url.endswith("/v1/traces"):
        url += "/v1/traces"  # the OTLP/HTTP path, as OTEL_EXPORTER_OTLP_ENDPOINT is a base URL
    return enable_tracing(BatchSpanProcessor(OTLPSpanExporter(endpoint=url)), sampler=sampler)


def disable_tracing() -> None:
    """Stop recording; flush and shut down what :func:`enable_tracing` started."""
    provider, _state.provider, _state.tracer = _state.provider, None, None
    if provider is not None:
        provider.shutdown()
