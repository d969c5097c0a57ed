"""Flows' connector actions through Tether's connector runtime: the engine's ``ConnectorCaller``.

An ``ApiConnection`` action names a connection and an HTTP request in the API's own terms
(method, a path relative to the connector's base path, queries, headers, body). The request is
matched to an operation by method and path template, as the ``/apim`` pass-through does, and then
runs as that operation (arguments checked, policies, custom code, SOAP, the environment's network
policy, the connection's credentials and rate limit). ``OpenApiConnection`` actions name the
operation directly. The run's ``Idempotency-Key`` travels with the request, so an API that
honours it never repeats an action a crashed worker had already sent.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from typing import Any

from tether.errors import TetherError
from tether.flows.engine import ActionFailure, ConnectorReply
from tether.runtime import RateLimited, RequestExtras, UpstreamUnavailable, connection_secrets
from tether.secrets import KeyRing
from tether.services.hosted import ConnectorRunner, prepare_call, run_operation
from tether.store import Database

__all__ = ["IDEMPOTENCY_HEADER", "FlowConnectorCaller"]

IDEMPOTENCY_HEADER = "Idempotency-Key"


class FlowConnectorCaller:
    """Runs flows' connector actions; one per process, beside the engine's other services.

    ``connections`` maps names a flow uses to Tether connection ids; a name not in it is taken
    as a connection id (what ``$connections[...]['connectionId']`` gives). The call acts for the
    connection's owner: who may put a connection in a flow is the flow services' decision.
    """

    def __init__(
        self,
        db: Database,
        *,
        runtime: ConnectorRunner,
        keyring: KeyRing,
        connections: Mapping[str, str] | None = None,
    ) -> None:
        self.db = db
        self.runtime = runtime
        self.keyring = keyring
        self.connections = dict(connections or {})

    async def secret_values(self, connection_ids: Iterable[str]) -> set[str]:
        """The secret parameter values of these connections: what run history must mask, should an
        API echo a credential back into an action's outputs. A connection that cannot be prepared
        (deleted, waiting for consent) contributes nothing: its calls fail before sending anything."""
        found: set[str] = set()
        for connection_id in connection_ids:
            with contextlib.suppress(TetherError):
                call = await prepare_call(
                    self.db, None, None, connection_id, keyring=self.keyring, runtime=self.runtime
                )
                found.update(connection_secrets(call.connection))
        return found

    async def call(
        self,
        connection_name: str,
        method: str,
        path: str,
        queries: Mapping[str, Any],
        headers: Mapping[str, str],
        body: Any,
        idempotency_key: str,
        *,
        async_pattern: bool = True,
    ) -> ConnectorReply:
        connection_id = self.connections.get(connection_name, connection_name)
        try:
            call = await prepare_call(
                self.db, None, None, connection_id, keyring=self.keyring, runtime=self.runtime
            )
            if method.upper() == "OPERATION":  # OpenApiConnection: path is the operationId
                operation_id, arguments = path, dict(body or {})
                extra_query: dict[str, Any] = {}
                extra_headers: dict[str, str] = {}
            else:
                operation, path_values = call.compiled.match(method, path)
                operation_id = operation.operation_id
                declared = {(p.location, p.name) for p in operation.parameters}
                arguments = dict(path_values)
                extra_query = {}
                for name, value in queries.items():
                    if ("query", name) in declared:
                        arguments[name] = value
                    else:
                        extra_query[name] = value
                extra_headers = {}
                for name, value in headers.items():
                    if ("header", name) in declared:
                        arguments[name] = value
                    else:
                        extra_headers[name] = value
                if body is not None and (operation.request_body is not None or ("body", "body") in declared):
                    arguments["body"] = body
            if idempotency_key:
                extra_headers.setdefault(IDEMPOTENCY_HEADER, idempotency_key)
            answer = await run_operation(
                self.db,
                call,
                operation_id,
                arguments,
                runtime=self.runtime,
                extras=RequestExtras(
                    headers=extra_headers,
                    query=extra_query,
                    async_pattern=async_pattern,
                    # An action's async operation may run as long as the async pattern allows.
                    deadline=max(self.runtime.runtime.deadline, self.runtime.runtime.async_pattern.timeout),
                ),
            )
        except RateLimited as exc:
            # An answer, not a failure: the action's retry policy waits Retry-After and tries again.
            retry_after = {"Retry-After": str(max(1, round(exc.retry_after)))}
            return 429, retry_after, {"error": exc.code, "message": exc.message}
        except UpstreamUnavailable as exc:
            raise ConnectionError(exc.message) from exc  # the engine retries connection failures
        except TetherError as exc:
            raise ActionFailure(_pascal(exc.code), exc.message) from exc
        return answer.status, answer.headers, answer.body


def _pascal(code: str) -> str:
    """Tether's ``invalid-arguments`` as Logic Apps' error-code style, ``InvalidArguments``."""
    return "".join(part.capitalize() for part in code.split("-"))
