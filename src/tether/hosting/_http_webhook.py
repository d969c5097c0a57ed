"""HttpWebhook's own calls: ``subscribe`` and ``unsubscribe`` to any URL, through the runtime's transport.

Logic Apps' ``HttpWebhook`` trigger declares two plain HTTP calls, ``subscribe`` (carrying
``@listCallbackUrl()``) and optionally ``unsubscribe``, each ``{method, uri, headers, queries,
body, authentication}``. They name no connector, so they go straight to the runtime's
:class:`~tether.runtime.Transport` under the flow environment's network policy: the SSRF guard
refuses loopback, private and metadata addresses unless the environment's ``network_allow``
opens them, and the transport's retries, redirect rules and rate limit apply as for connectors.

The unsubscribe call is kept with the subscription until it is sent, and it carries credentials
(``authentication``, headers): the trigger row holds it as a key ring token, like a connection's
secrets, and key rotation re-encrypts it (:func:`reencrypt_unsubscribe_calls`).
"""

from __future__ import annotations

import json
from collections.abc import Generator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx

from tether.definition import Api, Operation
from tether.errors import InputError
from tether.runtime import ConnectionContext, Exchange, NetworkPolicy, Runtime
from tether.secrets import KeyRing
from tether.services.hosted import network_policy
from tether.store import Connections, Database

__all__ = [
    "SUPPORTED_AUTHENTICATION",
    "WebhookCall",
    "environment_policy",
    "send_call",
]

SUPPORTED_AUTHENTICATION = frozenset({"none", "basic", "raw"})
# The transport carries operations of an API; these calls belong to none, so they travel as this one.
_API = Api(title="HttpWebhook", version="1", spec_version="2.0")
_OPERATION = Operation(operation_id="HttpWebhook", method="post", path="/")


class _RawAuthorization(httpx.Auth):
    """``authentication: {type: Raw, value}``: the value as the Authorization header.

    An ``httpx.Auth`` rather than a header, so the transport drops it on a redirect to another origin.
    """

    def __init__(self, value: str) -> None:
        self.value = value

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self.value
        yield request


@dataclass(frozen=True)
class WebhookCall:
    """One evaluated ``subscribe`` or ``unsubscribe`` call; an unsubscribe is kept encrypted with the
    subscription (:meth:`encrypted`), so the one sent is the one declared when the subscription began."""

    method: str
    uri: str
    # Credentials (and a body carrying the signed callback URL) never reach a repr.
    headers: dict[str, str] = field(repr=False)
    queries: dict[str, str] = field(repr=False)
    body: Any = field(repr=False)
    authentication: dict[str, Any] | None = field(repr=False)

    @classmethod
    def from_inputs(cls, inputs: Any, part: str) -> WebhookCall:
        """The ``part`` (``subscribe``/``unsubscribe``) of evaluated HttpWebhook inputs, checked."""
        call = inputs.get(part) if isinstance(inputs, Mapping) else None
        if not isinstance(call, Mapping) or not call.get("method") or not call.get("uri"):
            raise InputError(f"the HttpWebhook trigger's '{part}' needs 'method' and 'uri'")
        authentication = call.get("authentication")
        kind = str(authentication.get("type", "")).lower() if isinstance(authentication, Mapping) else "none"
        if kind not in SUPPORTED_AUTHENTICATION:
            raise InputError(
                f"HttpWebhook authentication '{kind}' is not supported yet; use Basic or Raw, "
                "or call the API through a connector and a connection"
            )
        return cls(
            method=str(call["method"]).upper(),
            uri=str(call["uri"]),
            headers={str(k): str(v) for k, v in (call.get("headers") or {}).items()},
            queries={str(k): str(v) for k, v in (call.get("queries") or {}).items()},
            body=call.get("body"),
            authentication=(
                dict(authentication) if isinstance(authentication, Mapping) and kind != "none" else None
            ),
        )

    @classmethod
    def from_stored(cls, stored: str | Mapping[str, Any], keyring: KeyRing) -> WebhookCall:
        """The call a trigger row keeps: a key ring token (or the plain JSON of rows written before
        the call was encrypted). Raises ``DecryptionFailed`` when no key on the ring fits."""
        found = keyring.decrypt_json(stored) if isinstance(stored, str) else stored
        fields: dict[str, Any] = {name: found.get(name) for name in cls.__dataclass_fields__}
        return cls(**fields)

    def encrypted(self, keyring: KeyRing) -> str:
        """The call as a key ring token: what the trigger row keeps, decrypted only to send it."""
        return keyring.encrypt_json(asdict(self))

    def secrets(self) -> dict[str, str]:
        """The call's credentials and header values, named so the transport masks them in log lines."""
        found = self.authentication or {}
        values = [found.get("password"), found.get("value"), *(self.headers or {}).values()]
        return {f"secret{n}": str(v) for n, v in enumerate(values) if v}

    def request(self) -> httpx.Request:
        headers = dict(self.headers)
        content = None
        if isinstance(self.body, dict | list | bool | int | float):
            content = json.dumps(self.body).encode()
            if not any(k.lower() == "content-type" for k in headers):
                headers["Content-Type"] = "application/json"
        elif isinstance(self.body, str):
            content = self.body.encode()
        try:
            return httpx.Request(
                self.method, self.uri, params=self.queries or None, headers=headers, content=content
            )
        except httpx.InvalidURL as exc:
            raise InputError(f"the HttpWebhook URI is not valid: {exc}") from exc

    def auth(self) -> httpx.Auth | None:
        found = self.authentication or {}
        kind = str(found.get("type", "")).lower()
        if kind == "basic":
            return httpx.BasicAuth(str(found.get("username", "")), str(found.get("password", "")))
        if kind == "raw":
            return _RawAuthorization(str(found.get("value", "")))
        return None


def environment_policy(db: Database, environment_id: str) -> NetworkPolicy:
    """The network policy of the flow's environment (its ``network_allow``), as connectors get it."""
    with db.session() as session:
        settings = Connections(session).settings(environment_id)
        return network_policy(settings.network_allow if settings else None)


async def send_call(
    runtime: Runtime, call: WebhookCall, *, policy: NetworkPolicy, key: str
) -> tuple[int, dict[str, str]]:
    """Send ``call``; answers its status and headers (the body is read and dropped).

    ``key`` names the caller for the transport's rate limit (a flow, as a connection id would).
    Raises the runtime's errors: ``DestinationRefused``, ``RateLimited``, ``UpstreamError``.
    """
    exchange = Exchange(
        api=_API,
        operation=_OPERATION,
        # No policy reads these parameters: they only tell the transport's log lines what to mask.
        connection=ConnectionContext(connection_id=key, parameters=call.secrets(), auth=call.auth()),
        request=call.request(),
    )
    response = await runtime.transport(policy)(exchange)
    try:
        await response.aread()
    finally:
        await response.aclose()
    return response.status_code, dict(response.headers)
