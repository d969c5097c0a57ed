"""x-ms-pageable and the 202/Location async pattern: the generators alone (no network), then
end to end through ``httpx.MockTransport`` handlers (paged and long-running APIs on demand)."""

from __future__ import annotations

import httpx
import pytest

from tether.definition import compile_api
from tether.runtime import AsyncPattern, ConnectionContext, Paging, Runtime, UpstreamTimeout
from tether.runtime._async_pattern import Poll, poll_flow
from tether.runtime._paging import follow_pages

pytestmark = pytest.mark.anyio

SPEC = {
    "swagger": "2.0",
    "info": {"title": "t", "version": "1"},
    "host": "api.example.com",
    "paths": {
        "/items": {
            "get": {
                "operationId": "List",
                "x-ms-pageable": {"nextLinkName": "@odata.nextLink"},
                "responses": {"200": {"description": "ok", "schema": {
                    "type": "object",
                    "properties": {"value": {"type": "array", "items": {"type": "integer"}}}}}},
            }
        },
        "/jobs": {"post": {"operationId": "Start", "responses": {"200": {"description": "done"}}}},
    },
}  # fmt: skip
API = compile_api(SPEC, name="t")


def test_page_flow_merges_and_resolves_relative_links() -> None:
    flow = follow_pages(
        {"value": [1], "next": "/p2"}, httpx.URL("https://a.test/items?x=1"), "next", Paging()
    )
    assert next(flow) == httpx.URL("https://a.test/p2")
    assert flow.send({"value": [2], "next": "https://a.test/p3"}) == httpx.URL("https://a.test/p3")
    with pytest.raises(StopIteration) as done:
        flow.send({"value": [3]})
    assert done.value.value.body == {"value": [1, 2, 3]} and done.value.value.pages == 3


@pytest.mark.parametrize(
    ("paging", "items", "pages"),
    [
        pytest.param(Paging(max_pages=2), [0, 1, 2, 3], 2, id="page-cap"),
        pytest.param(Paging(max_items=3), [0, 1, 2], 2, id="item-cap"),
    ],
)
def test_page_caps_keep_the_next_link_and_warn(paging, items, pages) -> None:
    flow = follow_pages({"value": [0, 1], "next": "p2"}, httpx.URL("https://a.test/"), "next", paging)
    next(flow)
    with pytest.raises(StopIteration) as done:
        flow.send({"value": [2, 3], "next": "p3"})
    result = done.value.value
    assert result.body["value"] == items and result.pages == pages
    assert result.body["next"] == "p3" and result.warnings


def test_poll_flow_follows_location_and_retry_after() -> None:
    first = httpx.Response(202, headers={"location": "/status/1", "retry-after": "3"})
    flow = poll_flow(first, httpx.URL("https://a.test/jobs"), AsyncPattern(), clock=lambda: 0.0)
    assert next(flow) == Poll(httpx.URL("https://a.test/status/1"), 3.0)
    moved = httpx.Response(202, headers={"location": "https://a.test/status/2", "retry-after": "0"})
    assert flow.send(moved) == Poll(httpx.URL("https://a.test/status/2"), 0.0)
    same = httpx.Response(202)
    assert flow.send(same) == Poll(httpx.URL("https://a.test/status/2"), 5.0)  # default interval, same URL
    with pytest.raises(StopIteration) as done:
        flow.send(httpx.Response(200, json={"done": True}))
    assert done.value.value.status_code == 200


def test_poll_flow_is_bounded_by_time_and_count() -> None:
    pending = httpx.Response(202, headers={"location": "/s", "retry-after": "10"})
    clock = [0.0]
    flow = poll_flow(pending, httpx.URL("https://a.test/"), AsyncPattern(timeout=25), clock=lambda: clock[0])
    next(flow)
    clock[0] = 10.0
    flow.send(pending)
    clock[0] = 20.0
    with pytest.raises(UpstreamTimeout, match="did not finish within 25s"):
        flow.send(pending)
    flow = poll_flow(pending, httpx.URL("https://a.test/"), AsyncPattern(max_polls=1), clock=lambda: 0.0)
    next(flow)
    with pytest.raises(UpstreamTimeout, match="1 polls"):
        flow.send(pending)


def mock_runtime(handler) -> tuple[Runtime, list[float]]:
    delays: list[float] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)

    return Runtime(transport=httpx.MockTransport(handler), sleep=sleep, rate_limit=None), delays


async def test_pages_are_followed_end_to_end_with_a_schema_warning() -> None:
    pages = {
        "/items": {"value": [1, 2], "@odata.nextLink": "https://api.example.com/items?page=2"},
        "/items?page=2": {"value": [3, "four"], "@odata.nextLink": "/items?page=3"},
        "/items?page=3": {"value": [5]},
    }

    def handler(request):
        return httpx.Response(200, json=pages[request.url.raw_path.decode()])

    runtime, _ = mock_runtime(handler)
    async with runtime:
        result = await runtime.invoke(API, "List")
        capped = await runtime.invoke(API, "List", max_pages=2)
    assert result.body == {"value": [1, 2, 3, "four", 5]} and result.pages == 3
    assert result.warnings == ["response body/value/3: expected integer, got string 'four'"]
    assert capped.pages == 2 and capped.body["@odata.nextLink"] == "/items?page=3"


async def test_next_link_to_another_origin_goes_without_credentials() -> None:
    seen = []

    def handler(request):
        seen.append((request.url.host, request.headers.get("authorization")))
        if request.url.host == "api.example.com":
            return httpx.Response(200, json={"value": [1], "@odata.nextLink": "https://evil.example/steal"})
        return httpx.Response(200, json={"value": [2]})

    runtime, _ = mock_runtime(handler)
    async with runtime:
        result = await runtime.invoke(
            API, "List", connection=ConnectionContext(auth=httpx.BasicAuth("u", "p"))
        )
    assert result.body["value"] == [1, 2]
    assert seen[0][1] is not None and seen[1] == ("evil.example", None)


async def test_async_pattern_end_to_end() -> None:
    polls = []

    def handler(request):
        if request.method == "POST":
            return httpx.Response(202, headers={"location": "/jobs/1", "retry-after": "2"})
        polls.append(request.url.path)
        if len(polls) < 3:
            return httpx.Response(202, headers={"retry-after": "1"})
        return httpx.Response(200, json={"status": "Succeeded"})

    runtime, delays = mock_runtime(handler)
    async with runtime:
        result = await runtime.invoke(API, "Start")
        no_poll = await runtime.invoke(API, "Start", async_pattern=False)
    assert result.status == 200 and result.body == {"status": "Succeeded"} and result.polls == 3
    assert delays == [2.0, 1.0, 1.0] and polls == ["/jobs/1"] * 3
    assert no_poll.status == 202
