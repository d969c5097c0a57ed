"""Tool results as an agent reads them: compact JSON text, cut with a note when too long.

An agent's context is small and costly: a 5 MB API answer must not be pasted into it whole.
Past ``max_chars`` the text is cut and a note says how much was left out and how to ask for
less. Binary bodies are described, not sent. Failures come back as ``isError`` results whose
text says what went wrong and how to fix it (Tether's messages are written for that, and never
hold a secret); an unexpected failure says only that it happened (details go to the log).
"""

from __future__ import annotations

import json
import logging
from typing import Any, Final

import mcp.types as types

from tether.errors import TetherError

__all__ = ["DEFAULT_MAX_RESULT_CHARS", "error_result", "json_result", "log_unexpected", "unexpected_result"]

logger = logging.getLogger("tether.mcp")

# ~5k tokens: room for a page of records, small next to a model's context.
DEFAULT_MAX_RESULT_CHARS: Final = 20_000


def _safe(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return f"<binary content, {len(value)} bytes, not shown>"
    return value


def json_result(value: dict[str, Any], *, is_error: bool = False, max_chars: int) -> types.CallToolResult:
    """``value`` as JSON text, cut to ``max_chars`` with a note saying so."""
    value = {k: _safe(v) for k, v in value.items()}
    text = json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))
    if len(text) > max_chars:
        text = (
            text[:max_chars]
            + f"\n[truncated by Tether: {max_chars} of {len(text)} characters shown. Ask for less "
            "(a filter, a smaller page or fewer fields) to see all of it.]"
        )
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], isError=is_error)


def error_result(exc: TetherError) -> types.CallToolResult:
    """A refused or failed call, said as the API would say it (code and message)."""
    text = f"{exc.code}: {exc.message}"
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], isError=True)


def log_unexpected(what: str, exc: BaseException) -> None:
    """A bug's traceback goes to the server's log, never to the agent."""
    logger.error("MCP %s failed unexpectedly", what, exc_info=exc)


def unexpected_result(tool: str, exc: BaseException) -> types.CallToolResult:
    """A bug's result: no internals to the agent, the traceback to the log."""
    log_unexpected(f"tool {tool}", exc)
    text = "internal: the tool failed unexpectedly; the Tether server's log has the details"
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], isError=True)
