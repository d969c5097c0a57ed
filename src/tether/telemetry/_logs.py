"""JSON log lines (``TETHER_LOG_FORMAT=json``) carrying the request, run and trace ids.

One JSON object per line: time, level, logger, message, and the ``request_id`` / ``run_id`` /
``trace_id`` of the work that wrote it, so the ``requestId`` a user quotes from an error answer
finds the operator's log lines and the trace. The message is the record's *formatted* message,
taken after the loggers' redaction filters ran: JSON changes the shape, never what is masked.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import TextIO

from tether.telemetry._context import current_request_id, current_run_id
from tether.telemetry._tracing import current_trace_id

__all__ = ["LOG_FORMATS", "JsonFormatter", "configure_logs"]

LOG_FORMATS = ("text", "json")
# Loggers whose records reach the root handler: uvicorn's own have handlers of their own.
_UVICORN = ("uvicorn", "uvicorn.error", "uvicorn.access")


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON line with the ids of the current request and run."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if request_id := current_request_id():
            line["request_id"] = request_id
        if run_id := current_run_id():
            line["run_id"] = run_id
        if trace_id := current_trace_id():
            line["trace_id"] = trace_id
        if record.exc_info:
            # The exception's type and traceback lines; its message was already redacted if it names a secret.
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logs(log_format: str, *, level: int = logging.INFO, stream: TextIO | None = None) -> None:
    """Send Tether's and uvicorn's records to ``stream`` (stderr) as JSON lines when ``log_format`` is json.

    ``text`` leaves logging as it is (uvicorn's and Python's defaults).
    """
    if log_format != "json":
        return
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h.formatter, JsonFormatter)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(min(root.level or level, level))
    for name in ("tether", *_UVICORN):
        logger = logging.getLogger(name)
        logger.handlers = []  # uvicorn's plain-text handlers would print the line a second time
        logger.propagate = True
        if logger.level == logging.NOTSET or logger.level > level:
            logger.setLevel(level)
