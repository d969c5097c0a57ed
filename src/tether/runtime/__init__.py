"""Executing one operation: IR + arguments + connection ⇒ HTTP request ⇒ policies ⇒ custom
code ⇒ transport ⇒ response. A library: needs no server and no database."""

from tether.runtime._arguments import prepare_arguments
from tether.runtime._async_pattern import DEFAULT_ASYNC_PATTERN, AsyncPattern, poll_flow, wants_polling
from tether.runtime._errors import (
    ArgumentError,
    DestinationRefused,
    RateLimited,
    UpstreamError,
    UpstreamProtocolError,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from tether.runtime._gateway import (
    AgentTooOld,
    GatewayDoor,
    GatewayError,
    GatewayHostNotAllowed,
    GatewayOffline,
    GatewayTarget,
    NoHealthyMember,
    Relay,
)
from tether.runtime._http import (
    EAGER_BODY_BYTES,
    EAGER_BODY_EXTENSION,
    NETWORK_POLICY_EXTENSION,
    GuardedTransport,
    shared_client,
)
from tether.runtime._invoke import InvokeResult, Runtime, follow_up, invoke_sync, new_correlation_id
from tether.runtime._oneshot import OneShotTransport, road_client
from tether.runtime._paging import DEFAULT_PAGING, Paging
from tether.runtime._pipeline import ConnectionContext, Exchange, Send, Stage, build_pipeline
from tether.runtime._ratelimit import DEFAULT_RATE_LIMIT, RateLimit, RateLimiter, TokenBucketLimiter
from tether.runtime._redact import Redactor, install_log_redaction, redacting
from tether.runtime._request import build_request
from tether.runtime._request_extras import RequestExtras
from tether.runtime._response import StreamedBody
from tether.runtime._retry import DEFAULT_RETRY, Resolution, ResponseAction, RetryPolicy
from tether.runtime._road import RoadTransport
from tether.runtime._ssrf import DEFAULT_NETWORK_POLICY, GuardedResolver, HostResolver, NetworkPolicy
from tether.runtime._transport import (
    DEADLINE_EXTENSION,
    DEFAULT_DEADLINE,
    DEFAULT_TIMEOUT,
    RetryNote,
    Transport,
    connection_secrets,
)

__all__ = [
    "DEADLINE_EXTENSION",
    "DEFAULT_ASYNC_PATTERN",
    "DEFAULT_DEADLINE",
    "DEFAULT_NETWORK_POLICY",
    "DEFAULT_PAGING",
    "DEFAULT_RATE_LIMIT",
    "DEFAULT_RETRY",
    "DEFAULT_TIMEOUT",
    "EAGER_BODY_BYTES",
    "EAGER_BODY_EXTENSION",
    "NETWORK_POLICY_EXTENSION",
    "AgentTooOld",
    "ArgumentError",
    "AsyncPattern",
    "ConnectionContext",
    "DestinationRefused",
    "Exchange",
    "GatewayDoor",
    "GatewayError",
    "GatewayHostNotAllowed",
    "GatewayOffline",
    "GatewayTarget",
    "GuardedResolver",
    "GuardedTransport",
    "HostResolver",
    "InvokeResult",
    "NetworkPolicy",
    "NoHealthyMember",
    "OneShotTransport",
    "Paging",
    "RateLimit",
    "RateLimited",
    "RateLimiter",
    "Redactor",
    "Relay",
    "RequestExtras",
    "Resolution",
    "ResponseAction",
    "RetryNote",
    "RetryPolicy",
    "RoadTransport",
    "Runtime",
    "Send",
    "Stage",
    "StreamedBody",
    "TokenBucketLimiter",
    "Transport",
    "UpstreamError",
    "UpstreamProtocolError",
    "UpstreamTimeout",
    "UpstreamUnavailable",
    "build_pipeline",
    "build_request",
    "connection_secrets",
    "follow_up",
    "install_log_redaction",
    "invoke_sync",
    "new_correlation_id",
    "poll_flow",
    "prepare_arguments",
    "redacting",
    "road_client",
    "shared_client",
    "wants_polling",
]
