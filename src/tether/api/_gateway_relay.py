"""The gateway relay's place in the app's lifespan: in distributed mode, bridged to the other replicas.

Every app has a :class:`~tether.gateway.Hub` (agents connected to this process). With Redis as
the broker (``settings.broker_url``), the hub also gets a bridge, so a call arriving here reaches
an agent connected to another replica, and calls forwarded by other replicas reach the agents here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from tether.api._connector_runner import Lifespan

__all__ = ["with_gateway_relay"]


def with_gateway_relay(inner: Lifespan) -> Lifespan:
    """``inner`` lifespan with the hub's Redis bridge running around it (distributed mode only)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        broker = app.state.settings.broker_url
        if not broker.startswith(("redis://", "rediss://", "unix://")):
            async with inner(app):
                yield
            return
        from tether.gateway import RedisBridge

        hub = app.state.gateway_hub
        bridge = RedisBridge(broker, hub)
        await bridge.start()
        hub.bridge = bridge
        try:
            async with inner(app):
                yield
        finally:
            hub.bridge = None
            await bridge.aclose()

    return lifespan
