"""Transport rules no real server produces on demand, through ``httpx.MockTransport`` handlers:
Retry-After values, dropped connections, cross-origin redirects, the per-connection rate limit."""

from __future__ import annotations

import httpx
import pytest

from tether.definition import compile_api
from tether.runtime import (
    ConnectionContext,
    RateLimit,
    RateLimited,
    ResponseAction,
    RetryPolicy,
    Runtime,
    TokenBucketLimiter,
    UpstreamProtocolError,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from tether.runtime._retry import retry_after

pytestmark = pytest.mark.anyio

SPEC = {
    "swagger": "2.0",
    "info": {"title": "t", "version": "1"},
    "host": "api.example.com",
    "schemes": ["https"],
    "paths": {
        "/items": {
            "get": {"operationId": "List", "responses": {"200": {"description": "ok"}}},
            "post": {"operationId": "Create", "responses": {"200": {"description": "ok"}}},
        }
    },
}
API = compile_api(SPEC, name="t")


def runtime_with(handler, **options) -> tuple[Runtime, list[float]]:
    delays: list[float] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)

    options.setdefault("rate_limit", None)
    return Runtime(transport=httpx.MockTransport(handler), sleep=sleep, **options), delays


async def test_retry_after_is_honoured_then_success() -> None:
    answers = iter(
        [httpx.Response(429, headers={"retry-after": "7"}), httpx.Response(503), httpx.Response(200)]
    )
    runtime, delays = runtime_with(lambda request: next(answers))
    async with runtime:
        result = await runtime.invoke(API, "List")
    assert result.status == 200
    assert delays[0] == 7.0 and 0.5 <= delays[1] <= 1.0  # header first, then backoff (0.5 s * 2, jittered)


async def test_too_long_retry_after_hands_the_answer_to_the_caller() -> None:
    runtime, delays = runtime_with(lambda request: httpx.Response(429, headers={"retry-after": "3600"}))
    async with runtime:
        result = await runtime.invoke(API, "List")
    assert result.status == 429 and result.headers["retry-after"] == "3600" and delays == []


def test_resolution_values() -> None:
    policy = RetryPolicy(max_attempts=2)
    assert policy.resolve("GET", 200, 1, None).action is ResponseAction.SUCCESS
    assert policy.resolve("GET", 500, 1, None).action is ResponseAction.RETRY
    assert policy.resolve("GET", 500, 2, None).action is ResponseAction.FAIL
    assert policy.resolve("POST", 500, 1, None).action is ResponseAction.FAIL
    assert policy.resolve("GET", 404, 1, None).action is ResponseAction.FAIL
    assert policy.resolve_failure("POST", 1, sent=False).action is ResponseAction.RETRY
    assert policy.resolve_failure("POST", 1, sent=True).action is ResponseAction.FAIL
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert retry_after("soon") is None


async def test_connect_errors_are_retried_even_for_post_then_translated() -> None:
    calls = []

    def refuse(request):
        calls.append(request.method)
        raise httpx.ConnectError("connection refused", request=request)

    runtime, delays = runtime_with(refuse)
    async with runtime:
        with pytest.raises(UpstreamUnavailable, match="cannot reach the API") as caught:
            await runtime.invoke(API, "Create")
    assert calls == ["POST"] * 4 and len(delays) == 3
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


async def test_a_post_that_may_have_been_processed_is_not_repeated() -> None:
    calls = []

    def drop(request):
        calls.append(1)
        raise httpx.ReadTimeout("timed out", request=request)

    runtime, _ = runtime_with(drop)
    async with runtime:
        with pytest.raises(UpstreamTimeout):
            await runtime.invoke(API, "Create")
    assert calls == [1]


async def test_cross_origin_redirect_drops_credentials() -> None:
    seen: list[tuple[str, str | None]] = []

    def handler(request):
        seen.append((request.url.host, request.headers.get("authorization")))
        if request.url.host == "api.example.com":
            return httpx.Response(302, headers={"location": "https://cdn.example.net/file"})
        return httpx.Response(200, json={"ok": True})

    runtime, _ = runtime_with(handler)
    connection = ConnectionContext(auth=httpx.BasicAuth("u", "p"))
    async with runtime:
        result = await runtime.invoke(API, "List", connection=connection)
    assert result.body == {"ok": True}
    assert seen[0][1] is not None and seen[1] == ("cdn.example.net", None)


async def test_https_to_http_downgrade_is_refused() -> None:
    runtime, _ = runtime_with(
        lambda request: httpx.Response(301, headers={"location": "http://api.example.com/x"})
    )
    async with runtime:
        with pytest.raises(UpstreamProtocolError, match="from https"):
            await runtime.invoke(API, "List")


async def test_post_redirected_with_303_becomes_get() -> None:
    methods = []

    def handler(request):
        methods.append((request.method, request.content))
        if request.method == "POST":
            return httpx.Response(303, headers={"location": "/items/1"})
        return httpx.Response(200, json={})

    runtime, _ = runtime_with(handler)
    async with runtime:
        await runtime.invoke(API, "Create")
    assert methods == [("POST", b""), ("GET", b"")]


async def test_rate_limit_answers_429_without_calling_upstream() -> None:
    calls = []

    def handler(request):
        calls.append(1)
        return httpx.Response(200, json={})

    runtime, _ = runtime_with(handler, rate_limit=RateLimit(limit=3, period=60))
    async with runtime:
        for _ in range(3):
            await runtime.invoke(API, "List", connection=ConnectionContext(connection_id="a"))
        with pytest.raises(RateLimited) as caught:
            await runtime.invoke(API, "List", connection=ConnectionContext(connection_id="a"))
        await runtime.invoke(API, "List", connection=ConnectionContext(connection_id="b"))  # its own budget
    assert len(calls) == 4
    assert caught.value.status == 429 and 19 < caught.value.retry_after <= 20  # one token per 20 s
    assert caught.value.detail["retry_after"] == caught.value.retry_after


def test_token_bucket_refills_evenly() -> None:
    now = [0.0]
    limiter = TokenBucketLimiter(RateLimit(limit=500, period=60), clock=lambda: now[0])
    assert all(limiter.acquire("c") is None for _ in range(500))
    assert limiter.acquire("c") == pytest.approx(0.12)
    now[0] += 0.12
    assert limiter.acquire("c") is None


def test_default_limits() -> None:
    runtime = Runtime()
    assert runtime.timeout.read == 120.0
    assert isinstance(runtime.rate_limiter, TokenBucketLimiter) and runtime.rate_limiter.rate.limit == 500


async def test_a_body_cut_off_midway_is_an_upstream_error() -> None:
    class Broken(httpx.AsyncByteStream):
        async def __aiter__(self):
            yield b'{"partial": '
            raise httpx.ReadError("connection reset")

    runtime, _ = runtime_with(lambda request: httpx.Response(200, stream=Broken()))
    async with runtime:
        with pytest.raises(UpstreamUnavailable, match="connection reset"):
            await runtime.invoke(API, "Create")
