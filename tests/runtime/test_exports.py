"""The runtime's public names are pinned: changing them is a decision, not an accident."""

from __future__ import annotations

import tether.runtime
from tether.errors import PermissionDenied, TetherError, ValidationFailed

EXPECTED = [
    "DEFAULT_ASYNC_PATTERN", "DEFAULT_NETWORK_POLICY", "DEFAULT_PAGING", "DEFAULT_RATE_LIMIT",
    "DEFAULT_RETRY",
    "DEFAULT_TIMEOUT", "ArgumentError", "AsyncPattern", "ConnectionContext", "DestinationRefused", "Exchange",
    "GuardedResolver", "GuardedTransport", "HostResolver", "NETWORK_POLICY_EXTENSION", "EAGER_BODY_BYTES",
    "EAGER_BODY_EXTENSION",
    "InvokeResult", "NetworkPolicy", "Paging", "RateLimit", "RateLimited", "RateLimiter", "RequestExtras",
    "Redactor", "Resolution", "ResponseAction", "RetryPolicy", "Runtime", "Send", "Stage", "StreamedBody",
    "TokenBucketLimiter", "Transport", "UpstreamError", "UpstreamProtocolError", "UpstreamTimeout",
    "UpstreamUnavailable", "build_pipeline", "build_request", "invoke_sync", "prepare_arguments",
    "shared_client", "DEADLINE_EXTENSION", "DEFAULT_DEADLINE", "RetryNote", "RoadTransport",
    "OneShotTransport", "road_client", "wants_polling", "follow_up", "poll_flow",
    "connection_secrets", "install_log_redaction", "redacting", "new_correlation_id",
    "AgentTooOld", "GatewayDoor", "GatewayError", "GatewayHostNotAllowed", "GatewayOffline", "GatewayTarget",
    "NoHealthyMember", "Relay",
]  # fmt: skip


def test_public_names_are_pinned() -> None:
    assert sorted(tether.runtime.__all__) == sorted(EXPECTED)
    for name in tether.runtime.__all__:
        assert hasattr(tether.runtime, name), name


def test_errors_sit_in_the_tether_tree_with_stable_codes() -> None:
    rt = tether.runtime
    assert issubclass(rt.ArgumentError, ValidationFailed) and issubclass(
        rt.DestinationRefused, PermissionDenied
    )
    classes = (rt.ArgumentError, rt.DestinationRefused, rt.RateLimited, rt.UpstreamError)
    classes += (rt.UpstreamUnavailable, rt.UpstreamTimeout, rt.UpstreamProtocolError)
    codes = {cls.code for cls in classes}
    assert len(codes) == 7
    assert all(issubclass(cls, TetherError) for cls in (rt.RateLimited, rt.UpstreamError))
    assert (
        rt.RateLimited.retryable and rt.UpstreamTimeout.retryable and not rt.UpstreamProtocolError.retryable
    )
