"""``invoke_sync``: the one-call convenience for scripts, against the real httpbin."""

from __future__ import annotations

import pytest

from tests.runtime.conftest import LOOPBACK
from tether.definition import compile_api
from tether.errors import ConfigurationError
from tether.runtime import ConnectionContext, invoke_sync


def test_invoke_sync_reads_everything(httpbin, httpbin_spec) -> None:
    api = compile_api(httpbin_spec, name="httpbin")
    connection = ConnectionContext(base_url=httpbin.url)
    result = invoke_sync(api, "get_bytes_n", {"n": 3000}, connection=connection, network_policy=LOOPBACK,
                         max_buffered_bytes=1000)  # fmt: skip
    assert result.status == 200 and isinstance(result.body, bytes) and len(result.body) == 3000


@pytest.mark.anyio
async def test_invoke_sync_refuses_a_running_loop(httpbin_spec) -> None:
    with pytest.raises(ConfigurationError, match="inside an event loop"):
        invoke_sync(compile_api(httpbin_spec, name="httpbin"), "get_get")
