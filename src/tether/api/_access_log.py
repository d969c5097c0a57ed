"""The access log without query values: callback signatures, OAuth codes and states stay out of it.

uvicorn's access log prints each request's path *with* its query string, and Tether's query strings
carry secrets: ``/redirect?code=…&state=…`` (an authorization code and the state that binds it),
``…/invoke?sig=…`` (a Request trigger's signature, as good as a password), API keys of connectors
that take them in the query. The filter keeps the parameter names, which are what an operator
reading the log needs, and masks every value.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

__all__ = ["ACCESS_LOGGER", "QueryValueFilter", "install_access_log_filter", "mask_query"]

ACCESS_LOGGER = "uvicorn.access"
_MASK = "***"


def mask_query(path: str) -> str:
    """``path`` with each query value replaced by ``***`` (``/redirect?code=***&state=***``)."""
    base, separator, query = path.partition("?")
    if not separator:
        return path
    names = [name for name, _value in parse_qsl(query, keep_blank_values=True)]
    if not names:
        return f"{base}?{_MASK}"
    return base + "?" + "&".join(f"{name}={_MASK}" for name in names)


class QueryValueFilter(logging.Filter):
    """Masks query values in uvicorn's access-log records (argument 3 is the path with its query)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (*args[:2], mask_query(args[2]), *args[3:])
        return True


def install_access_log_filter() -> None:
    """Attach :class:`QueryValueFilter` to uvicorn's access logger (idempotent).

    A filter on the logger survives uvicorn's own ``dictConfig`` (which replaces handlers, not
    filters), so installing it when the app is built covers ``tether serve`` and the tests alike.
    """
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, QueryValueFilter) for f in logger.filters):
        logger.addFilter(QueryValueFilter())
