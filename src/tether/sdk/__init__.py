"""Tether's Python SDK: call connections and run flows from any Python program, over HTTP.

A client layer: it talks to a Tether server through its API only (httpx), never to the
database or the runtime, so it works against any server and imports quickly.

Example::

    import tether

    with tether.Client("http://127.0.0.1:8000", token="tth_…") as client:
        for connection in client.connections():
            print(connection.display_name, connection.connector, connection.status)
        sentiment = client.connection(connection_id)
        result = sentiment.call("Sentiment", documents=[{"id": "1", "text": "What a lovely day"}])
        print(result.body["documents"][0]["score"])
"""

from tether.sdk._async_client import AsyncClient, AsyncConnection
from tether.sdk._client import DEFAULT_ENVIRONMENT, Client, Connection
from tether.sdk._errors import (
    ApiError,
    ClientError,
    ConflictError,
    Forbidden,
    InvalidRequest,
    NotFoundError,
    RateLimitedError,
    RunTimeout,
    ServerUnreachable,
    Unauthenticated,
    UpstreamStatus,
)
from tether.sdk._login import NotLoggedIn
from tether.sdk._models import ConnectionInfo, Connector, Flow, InvokeResult, Operation, Run, RunAction

__all__ = [
    "DEFAULT_ENVIRONMENT",
    "ApiError",
    "AsyncClient",
    "AsyncConnection",
    "Client",
    "ClientError",
    "ConflictError",
    "Connection",
    "ConnectionInfo",
    "Connector",
    "Flow",
    "Forbidden",
    "InvalidRequest",
    "InvokeResult",
    "NotFoundError",
    "NotLoggedIn",
    "Operation",
    "RateLimitedError",
    "Run",
    "RunAction",
    "RunTimeout",
    "ServerUnreachable",
    "Unauthenticated",
    "UpstreamStatus",
]
