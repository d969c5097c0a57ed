"""The API routes the SDK calls, in one place (both clients build the same requests)."""

from __future__ import annotations

from urllib.parse import quote

__all__ = ["API_PREFIX", "segment"]

API_PREFIX = "/api/v1"


def segment(value: str) -> str:
    """One path segment, escaped (a display name may hold spaces or slashes)."""
    return quote(value, safe="")


def environment(env: str) -> str:
    return f"/environments/{segment(env)}"


def connection(env: str, connection_id: str) -> str:
    return f"{environment(env)}/connections/{segment(connection_id)}"


def operations(connection_id: str) -> str:
    return f"/connections/{segment(connection_id)}/operations"


def invoke(env: str, connection_id: str, operation_id: str) -> str:
    return f"{connection(env, connection_id)}/invoke/{segment(operation_id)}"


def flow(env: str, name: str) -> str:
    return f"{environment(env)}/flows/{segment(name)}"


def run(env: str, name: str, run_id: str) -> str:
    return f"{flow(env, name)}/runs/{segment(run_id)}"
