"""Optional parts of Tether, installed as extras, and the one clear error when one is missing.

The core install serves, validates, imports OpenAPI/Postman/cURL and runs flows embedded on
SQLite. WSDL import (``soap``), PostgreSQL (``postgresql``), Celery workers (``distributed``) and
the tutorial's sample service (``demo``) each need packages most installs never use.
"""

from __future__ import annotations

import importlib

from tether.errors import ConfigurationError

__all__ = ["require_extra"]


def require_extra(module: str, *, extra: str, feature: str) -> None:
    """Raise :class:`ConfigurationError` naming the extra to install when ``module`` is missing."""
    try:
        importlib.import_module(module)  # the caller imports it next anyway
    except ImportError as exc:
        raise ConfigurationError(
            f"{feature} needs the optional package {module!r}, which is not installed: "
            f"pip install 'tether[{extra}]'"
        ) from exc
