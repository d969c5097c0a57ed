"""Tether: an open platform for custom connectors.

``tether.Client`` and ``tether.AsyncClient`` (the Python SDK, :mod:`tether.sdk`) are loaded on
first use, so ``import tether`` stays as light as it was for the CLI and the server.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["AsyncClient", "Client", "__version__"]

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (every command imports us)
if TYPE_CHECKING:
    from tether.sdk import AsyncClient, Client

_LAZY = frozenset({"Client", "AsyncClient"})


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import tether.sdk

        return getattr(tether.sdk, name)
    raise AttributeError(f"module 'tether' has no attribute {name!r}")
