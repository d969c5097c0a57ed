"""Requests and responses against a real httpbin, driven through its Swagger 2.0 spec.

The spec hard-codes ``host: httpbin.org``; the connection's ``base_url`` points at the local
server instead. httpbin's spec declares no parameters for ``/anything`` (it echoes
whatever it gets), so tests that need query arrays, headers or forms add those
parameters to a copy of the spec, exactly as a connector author would write them.
"""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest

from tests.runtime.conftest import LOOPBACK, free_port
from tether.definition import compile_api
from tether.runtime import (
    ConnectionContext,
    RetryPolicy,
    Runtime,
    StreamedBody,
    UpstreamProtocolError,
    UpstreamTimeout,
)
from tether.runtime._http import NETWORK_POLICY_EXTENSION, GuardedTransport

pytestmark = pytest.mark.anyio


def with_operation(spec: dict[str, Any], path: str, method: str, op_id: str, **operation: Any):
    spec = copy.deepcopy(spec)
    spec["paths"].setdefault(path, {})[method] = {
        "operationId": op_id,
        "responses": {"200": {"description": "ok"}},
    }
    spec["paths"][path][method].update(operation)
    return compile_api(spec, name="httpbin")


@pytest.fixture(scope="module")
def api(httpbin_spec):
    return compile_api(httpbin_spec, name="httpbin")


@pytest.fixture
async def runtime():
    delays: list[float] = []

    async def sleep(seconds: float) -> None:  # record backoffs instead of waiting them out
        delays.append(seconds)

    async with Runtime(network_policy=LOOPBACK, sleep=sleep) as runtime:
        runtime.delays = delays  # type: ignore[attr-defined]
        yield runtime


@pytest.fixture
def conn(httpbin) -> ConnectionContext:
    return ConnectionContext(connection_id="httpbin", base_url=httpbin.url)


async def test_query_arrays_in_every_collection_format(runtime, conn, httpbin_spec) -> None:
    def array(name: str, fmt: str) -> dict[str, Any]:
        return {
            "name": name,
            "in": "query",
            "type": "array",
            "items": {"type": "string"},
            "collectionFormat": fmt,
        }

    params = [array("csv", "csv"), array("ssv", "ssv"), array("tsv", "tsv"), array("pipes", "pipes")]
    params += [array("multi", "multi"), {"name": "flag", "in": "query", "type": "boolean"}]
    api = with_operation(httpbin_spec, "/anything", "get", "Query", parameters=params)
    values = ["a b", "c"]
    arguments = {name: values for name in ("csv", "ssv", "tsv", "pipes", "multi")} | {"flag": True}
    result = await runtime.invoke(api, "Query", arguments, connection=conn)
    args = result.body["args"]
    assert args["csv"] == "a b,c"
    assert args["ssv"] == "a b c"
    assert args["tsv"] == "a b\tc"
    assert args["pipes"] == "a b|c"
    assert args["multi"] == ["a b", "c"]  # repeated name
    assert args["flag"] == "true"  # JSON spelling, not Python's


async def test_header_parameters_and_internal_defaults(runtime, conn, httpbin_spec) -> None:
    params = [
        {"name": "X-Trace", "in": "header", "type": "array", "items": {"type": "string"}},
        {"name": "X-Version", "in": "header", "type": "string", "required": True, "default": "2024-01-01",
         "x-ms-visibility": "internal"},
    ]  # fmt: skip
    api = with_operation(httpbin_spec, "/anything", "get", "Headers", parameters=params)
    result = await runtime.invoke(api, "Headers", {"X-Trace": ["a", "b"]}, connection=conn)
    assert result.body["headers"]["X-Trace"] == "a,b"
    assert result.body["headers"]["X-Version"] == "2024-01-01"


async def test_urlencoded_form(runtime, conn, httpbin_spec) -> None:
    params = [
        {"name": "name", "in": "formData", "type": "string", "required": True},
        {"name": "count", "in": "formData", "type": "integer"},
        {
            "name": "tags",
            "in": "formData",
            "type": "array",
            "items": {"type": "string"},
            "collectionFormat": "multi",
        },
    ]
    api = with_operation(
        httpbin_spec,
        "/anything",
        "post",
        "Form",
        parameters=params,
        consumes=["application/x-www-form-urlencoded"],
    )
    result = await runtime.invoke(
        api, "Form", {"name": "Zoë & co", "count": "3", "tags": ["x", "y"]}, connection=conn
    )
    assert result.body["form"] == {"name": "Zoë & co", "count": "3", "tags": ["x", "y"]}
    assert result.body["headers"]["Content-Type"] == "application/x-www-form-urlencoded"


async def test_multipart_form_with_files(runtime, conn, httpbin_spec) -> None:
    params = [
        {"name": "upload", "in": "formData", "type": "file", "required": True},
        {"name": "raw", "in": "formData", "type": "file"},
        {"name": "note", "in": "formData", "type": "string"},
    ]
    api = with_operation(
        httpbin_spec, "/anything", "put", "Upload", parameters=params, consumes=["multipart/form-data"]
    )
    arguments = {"upload": ("hello.txt", b"hello file", "text/plain"), "raw": b"\x00\x01", "note": "n"}
    result = await runtime.invoke(api, "Upload", arguments, connection=conn)
    assert result.body["files"]["upload"] == "hello file"
    assert "raw" in result.body["files"]
    assert result.body["form"] == {"note": "n"}
    assert result.body["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")


async def test_json_and_xml_bodies(runtime, conn, httpbin_spec) -> None:
    body = {"in": "body", "name": "payload", "schema": {"type": "object"}}
    api = with_operation(httpbin_spec, "/anything", "post", "Json", parameters=[body])
    result = await runtime.invoke(api, "Json", {"payload": {"a": [1, "é"]}}, connection=conn)
    assert result.body["json"] == {"a": [1, "é"]}
    xml = {"in": "body", "name": "body", "schema": {"type": "string"}}
    api = with_operation(
        httpbin_spec, "/anything", "post", "Xml", parameters=[xml], consumes=["application/xml"]
    )
    result = await runtime.invoke(api, "Xml", {"body": "<a>1</a>"}, connection=conn)
    assert result.body["data"] == "<a>1</a>"
    assert result.body["headers"]["Content-Type"] == "application/xml"


async def test_binary_body(runtime, conn, httpbin_spec) -> None:
    body = {"in": "body", "name": "body", "schema": {"type": "string", "format": "binary"}}
    api = with_operation(
        httpbin_spec, "/anything", "post", "Bin", parameters=[body], consumes=["application/octet-stream"]
    )
    result = await runtime.invoke(api, "Bin", {"body": b"\xff\xfe"}, connection=conn)
    assert result.body["data"].startswith("data:application/octet-stream;base64,")


async def test_double_url_encoding_of_a_path_parameter(runtime, conn, httpbin_spec) -> None:
    params = [
        {"name": "anything", "in": "path", "type": "string", "required": True, "x-ms-url-encoding": "double"}
    ]
    api = with_operation(httpbin_spec, "/anything/{anything}", "get", "Double", parameters=params)
    result = await runtime.invoke(api, "Double", {"anything": "a/b c"}, connection=conn)
    # The server decodes once and still sees the single-encoded value.
    assert result.body["url"].endswith("/anything/a%2Fb%20c")


async def test_basic_auth_from_the_connection(runtime, httpbin, api) -> None:
    good = ConnectionContext(base_url=httpbin.url, auth=httpx.BasicAuth("ann", "pw-123456"))
    arguments = {"user": "ann", "passwd": "pw-123456"}
    result = await runtime.invoke(api, "get_basic_auth_user_passwd", arguments, connection=good)
    assert result.status == 200 and result.body == {"authenticated": True, "user": "ann"}
    bad = ConnectionContext(base_url=httpbin.url, auth=httpx.BasicAuth("ann", "wrong"))
    result = await runtime.invoke(api, "get_basic_auth_user_passwd", arguments, connection=bad)
    assert result.status == 401  # a decision for the caller, not an exception


async def test_redirects_are_followed_hop_by_hop(runtime, conn, api) -> None:
    result = await runtime.invoke(api, "get_redirect_n", {"n": 3}, connection=conn)
    assert result.status == 200 and result.body["url"].endswith("/get")
    result = await runtime.invoke(api, "get_absolute_redirect_n", {"n": 2}, connection=conn)
    assert result.status == 200
    with pytest.raises(UpstreamProtocolError, match="more than 10 redirects"):
        await runtime.invoke(api, "get_redirect_n", {"n": 12}, connection=conn)


@pytest.mark.parametrize(
    ("method", "code", "retries"),
    [
        pytest.param("get", 418, 0, id="get-418-not-retried"),
        pytest.param("get", 503, 3, id="get-503-retried-3-times"),
        pytest.param("put", 429, 3, id="put-429-retried"),
        pytest.param("post", 503, 0, id="post-503-not-retried"),
        pytest.param("delete", 204, 0, id="delete-204-ok"),
    ],
)
async def test_status_codes_and_retries(runtime, conn, api, method, code, retries) -> None:
    result = await runtime.invoke(api, f"{method}_status_codes", {"codes": str(code)}, connection=conn)
    assert result.status == code
    assert len(runtime.delays) == retries
    assert all(0 < d <= 30 for d in runtime.delays)


async def test_gzip_and_deflate_are_decoded(runtime, conn, api) -> None:
    assert (await runtime.invoke(api, "get_gzip", connection=conn)).body["gzipped"] is True
    assert (await runtime.invoke(api, "get_deflate", connection=conn)).body["deflated"] is True


async def test_response_formats(runtime, conn, api) -> None:
    xml = await runtime.invoke(api, "get_xml", connection=conn)
    assert isinstance(xml.body, str) and xml.body.startswith("<?xml")
    html = await runtime.invoke(api, "get_html", connection=conn)
    assert "<h1>" in html.body
    raw = await runtime.invoke(api, "get_bytes_n", {"n": 1000}, connection=conn)
    assert isinstance(raw.body, bytes) and len(raw.body) == 1000


async def test_large_bodies_are_streamed_not_buffered(httpbin, api) -> None:
    conn = ConnectionContext(base_url=httpbin.url)
    async with Runtime(network_policy=LOOPBACK, max_buffered_bytes=4096) as runtime:
        result = await runtime.invoke(api, "get_stream_bytes_n", {"n": 60_000}, connection=conn)
        assert isinstance(result.body, StreamedBody)
        assert any("returned as a stream" in w for w in result.warnings)
        total = 0
        async for chunk in result.body:
            total += len(chunk)
        assert total == 60_000
        announced = await runtime.invoke(api, "get_bytes_n", {"n": 50_000}, connection=conn)
        assert isinstance(announced.body, StreamedBody) and announced.body.length == 50_000
        assert len(await announced.body.aread()) == 50_000


async def test_timeout_becomes_upstream_timeout(httpbin, api) -> None:
    conn = ConnectionContext(base_url=httpbin.url)
    async with Runtime(network_policy=LOOPBACK, timeout=0.3, retry=RetryPolicy(max_attempts=1)) as runtime:
        with pytest.raises(UpstreamTimeout, match="no answer in time"):
            await runtime.invoke(api, "get_delay_delay", {"delay": 2}, connection=conn)


async def test_cookies_one_connection_gets_are_never_kept_or_sent_to_another(runtime, httpbin, api) -> None:
    """The runtime's client is shared by every connection: a Set-Cookie must not be remembered."""
    ada = ConnectionContext(connection_id="ada", base_url=httpbin.url)
    bob = ConnectionContext(connection_id="bob", base_url=httpbin.url)
    sets = await runtime.invoke(
        api, "get_cookies_set_name_value", {"name": "session", "value": "ada-s3cret"}, connection=ada
    )
    assert sets.status == 200  # httpbin set the cookie, then redirected to /cookies
    assert len(runtime.client.cookies.jar) == 0
    seen = await runtime.invoke(api, "get_cookies", connection=bob)
    assert seen.body == {"cookies": {}}


async def test_the_transport_frames_an_upload_of_unknown_length_as_chunked(httpbin) -> None:
    async def parts():
        yield b"hello "
        yield b"world"

    transport = GuardedTransport()
    try:
        request = httpx.Request(
            "POST",
            f"{httpbin.url}/anything",
            content=parts(),
            extensions={NETWORK_POLICY_EXTENSION: LOOPBACK},
        )
        assert request.headers["transfer-encoding"] == "chunked"
        response = await transport.handle_async_request(request)
        await response.aread()
        assert response.status_code == 200 and response.json()["data"] == "hello world"
        refused = httpx.Request(
            "GET", f"http://127.0.0.1:{free_port()}/", extensions={NETWORK_POLICY_EXTENSION: LOOPBACK}
        )
        with pytest.raises(httpx.ConnectError):
            await transport.handle_async_request(refused)
    finally:
        await transport.aclose()
