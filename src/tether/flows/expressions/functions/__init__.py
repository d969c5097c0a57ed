"""The expression functions, one module per category, gathered in one case-insensitive registry."""

from __future__ import annotations

from . import (  # noqa: F401 - importing a category registers its functions
    _collections,
    _conversion,
    _datetime,
    _logical,
    _manipulation,
    _math,
    _strings,
    _uri,
    _workflow,
)
from ._registry import REGISTRY as FUNCTIONS
from ._registry import Function, FunctionError, FunctionRegistry

__all__ = ["FUNCTIONS", "Function", "FunctionError", "FunctionRegistry"]
