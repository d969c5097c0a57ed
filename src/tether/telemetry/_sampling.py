"""Which traces are recorded: OpenTelemetry's standard ``OTEL_TRACES_SAMPLER`` / ``OTEL_TRACES_SAMPLER_ARG``.

Recording every request costs more CPU than the invoke it describes (issue 14: about +0.6 ms on a
0.5 ms call), so, like most tracing products, Tether samples at the head by default: a new trace
is recorded with probability :data:`DEFAULT_RATIO`, and a request whose ``traceparent`` says its
caller recorded it is always recorded (parent-based), so a trace started upstream is never cut.
``OTEL_TRACES_SAMPLER=parentbased_always_on`` records everything. The names and the argument
follow the OpenTelemetry specification; a name Tether does not know is refused at start-up rather
than silently replaced, as the SDK would.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from tether.errors import ConfigurationError

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.sampling import Sampler

__all__ = ["DEFAULT_RATIO", "DEFAULT_SAMPLER", "SAMPLERS", "sampler_from_env"]

DEFAULT_SAMPLER = "parentbased_traceidratio"
# One new trace in 20: at ~1000 invokes/s that is still 50 traces a second, and tracing plus metrics
# cost about 14 µs of CPU per invoke (of ~470 µs) against ~200 µs when every request is recorded
# (bench/bench_invoke.py --observability, issue 14).
DEFAULT_RATIO = 0.05
SAMPLERS = (
    "always_on",
    "always_off",
    "traceidratio",
    "parentbased_always_on",
    "parentbased_always_off",
    "parentbased_traceidratio",
)
_RATIO_SAMPLERS = ("traceidratio", "parentbased_traceidratio")


def sampler_from_env(environ: Mapping[str, str]) -> Sampler:
    """The sampler ``OTEL_TRACES_SAMPLER`` (and ``..._ARG``) in ``environ`` names; Tether's default without.

    A ratio sampler without an argument records everything (the specification's default), except
    Tether's own default, which uses :data:`DEFAULT_RATIO` unless the argument says otherwise.
    """
    from opentelemetry.sdk.trace import sampling

    given = environ.get("OTEL_TRACES_SAMPLER", "").strip().lower()
    name = given or DEFAULT_SAMPLER
    if name not in SAMPLERS:
        raise ConfigurationError(
            f"OTEL_TRACES_SAMPLER={given!r} is not a sampler Tether knows: use one of {', '.join(SAMPLERS)}"
        )
    if name not in _RATIO_SAMPLERS:
        return {
            "always_on": sampling.ALWAYS_ON,
            "always_off": sampling.ALWAYS_OFF,
            "parentbased_always_on": sampling.ParentBased(sampling.ALWAYS_ON),
            "parentbased_always_off": sampling.ParentBased(sampling.ALWAYS_OFF),
        }[name]
    ratio = _ratio(environ.get("OTEL_TRACES_SAMPLER_ARG", "").strip(), DEFAULT_RATIO if not given else 1.0)
    root = sampling.TraceIdRatioBased(ratio)
    return sampling.ParentBased(root) if name.startswith("parentbased_") else root


def _ratio(text: str, default: float) -> float:
    if not text:
        return default
    try:
        ratio = float(text)
    except ValueError:
        ratio = -1.0
    if not 0.0 <= ratio <= 1.0:
        raise ConfigurationError(
            f"OTEL_TRACES_SAMPLER_ARG={text!r} is not a sampling ratio: give a number from 0 to 1 "
            "(0.05 records one new trace in 20)"
        )
    return ratio
