"""One live Tether server for the SDK tests (see tests/_agents_kit.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests._agents_kit import Tenant, live_tenant


@pytest.fixture(scope="module")
def tenant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tenant]:
    yield from live_tenant(tmp_path_factory.mktemp("sdk-home"))
