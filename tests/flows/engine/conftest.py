from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.flows.engine._support import Backend


@pytest.fixture(scope="session")
def backend() -> Iterator[Backend]:
    """A local HTTP backend, one per test session."""
    server = Backend()
    yield server
    server.close()
