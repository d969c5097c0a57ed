"""The etcd v3 JSON gateway through its own Swagger 2.0 spec: put, range, delete, errors.

The spec has no host: the connection's ``base_url`` supplies it. Keys and values are base64
(``format: byte``), int64 fields come back as strings, empty fields are omitted.
"""

from __future__ import annotations

import base64
import uuid

import pytest

from tests.runtime.conftest import LOOPBACK
from tether.runtime import ArgumentError, ConnectionContext, Runtime

pytestmark = pytest.mark.anyio


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.fixture
async def runtime():
    async with Runtime(network_policy=LOOPBACK) as runtime:
        yield runtime


def connection(etcd) -> ConnectionContext:
    return ConnectionContext(connection_id="etcd", base_url=etcd.url)


async def test_put_range_delete_round_trip(runtime, etcd, etcd_api) -> None:
    key = f"tether/{uuid.uuid4().hex}"
    conn = connection(etcd)
    put = await runtime.invoke(
        etcd_api, "Put", {"body": {"key": b64(key), "value": b64("hello")}}, connection=conn
    )
    assert put.status == 200 and put.warnings == []
    assert int(put.body["header"]["revision"]) > 0  # int64 as a JSON string

    got = await runtime.invoke(etcd_api, "Range", {"body": {"key": b64(key)}}, connection=conn)
    assert got.status == 200
    assert got.body["count"] == "1"
    assert base64.b64decode(got.body["kvs"][0]["value"]) == b"hello"

    deleted = await runtime.invoke(etcd_api, "DeleteRange", {"body": {"key": b64(key)}}, connection=conn)
    assert deleted.body["deleted"] == "1"
    gone = await runtime.invoke(etcd_api, "Range", {"body": {"key": b64(key)}}, connection=conn)
    assert "kvs" not in gone.body and "count" not in gone.body  # empty fields are omitted


async def test_prefix_range_with_range_end(runtime, etcd, etcd_api) -> None:
    prefix = f"tether/{uuid.uuid4().hex}/"
    conn = connection(etcd)
    for n in range(3):
        body = {"key": b64(f"{prefix}{n}"), "value": b64(str(n))}
        await runtime.invoke(etcd_api, "Put", {"body": body}, connection=conn)
    range_end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    result = await runtime.invoke(
        etcd_api, "Range", {"body": {"key": b64(prefix), "range_end": b64(range_end)}}, connection=conn
    )
    assert [base64.b64decode(kv["value"]) for kv in result.body["kvs"]] == [b"0", b"1", b"2"]


async def test_upstream_error_status_is_a_result_not_an_exception(runtime, etcd, etcd_api) -> None:
    # A lease that does not exist: gRPC NotFound ⇒ HTTP 404 with {error, message, code}.
    body = {"key": b64("tether/x"), "value": b64("v"), "lease": "12345"}
    result = await runtime.invoke(etcd_api, "Put", {"body": body}, connection=connection(etcd))
    assert result.status == 404
    assert "lease not found" in result.body["message"]


async def test_bad_arguments_are_refused_before_sending(runtime, etcd, etcd_api) -> None:
    with pytest.raises(ArgumentError) as caught:
        await runtime.invoke(
            etcd_api, "Put", {"body": {"key": 5, "prev_kv": "yes"}, "extra": 1}, connection=connection(etcd)
        )
    pointers = sorted(issue["pointer"] for issue in caught.value.issues)
    assert pointers == ["/body/key", "/body/prev_kv", "/extra"]
    assert "expected string" in caught.value.message and "expected boolean" in caught.value.message
