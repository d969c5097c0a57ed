"""Keyword arguments of ``connection.call`` → the argument object the invoke endpoint takes.

Invoke takes parameters by name and the body under one argument (``body`` for most
connectors). Writing ``call("Sentiment", body={"documents": docs})`` is exact but clumsy, so
``call("Sentiment", documents=docs)`` also works: names that are not parameters become fields
of an object body. The operation's input schema (from the operations listing) says which is
which; nothing is guessed without it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tether.sdk._errors import ClientError
from tether.sdk._models import Operation

__all__ = ["invoke_arguments", "needs_schema"]


class ArgumentMismatch(ClientError):
    """Keyword arguments that name neither a parameter nor a field of the body."""

    code = "invalid-arguments"


def needs_schema(arguments: Mapping[str, Any]) -> bool:
    """Only loose body fields need the schema; ``body=`` alone or no arguments go as they are."""
    return bool(arguments) and set(arguments) != {"body"}


def invoke_arguments(operation: Operation, arguments: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters kept by name, loose body fields gathered under the body argument."""
    properties = operation.input_schema.get("properties") or {}
    declared = operation.raw.get("body_argument")
    body_name = declared if isinstance(declared, str) else None
    loose = {k: v for k, v in arguments.items() if k not in properties}
    result = {k: v for k, v in arguments.items() if k in properties}
    if not loose:
        return result
    body_schema = properties.get(body_name) if body_name is not None else None
    if (
        body_name is None
        or not isinstance(body_schema, dict)
        or body_schema.get("type", "object") != "object"
    ):
        known = sorted(properties) or ["(none)"]
        raise ArgumentMismatch(
            f"{operation.id} takes no argument {sorted(loose)}; its arguments are {known}",
            detail={"unknown": sorted(loose)},
        )
    given = result.get(body_name)
    if given is not None and not isinstance(given, dict):
        raise ArgumentMismatch(
            f"{operation.id}: pass the body either as {body_name}=… or as its fields, not both"
        )
    result[body_name] = {**(given or {}), **loose}
    return result
