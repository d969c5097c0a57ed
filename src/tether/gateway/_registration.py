"""Registering an agent: spend the one-time token, bring or recover the cluster's key pair.

The agent always makes a key pair and wraps its private key under the recovery key. If the
cluster is new, the server keeps that public key and wrapped key; if the cluster already has
keys, the server answers with its wrapped key, which this agent opens with the same recovery
key (a wrong one fails here, clearly, and the token is spent: ask for another).
"""

from __future__ import annotations

import base64
import platform

import httpx

import tether
from tether.errors import AuthError, InputError, TetherError
from tether.gateway._agent import agent_client
from tether.gateway._allowlist import Allowlist
from tether.gateway._config import AgentConfig
from tether.secrets import generate_key_pair, public_key_of, unwrap_private_key, wrap_private_key

__all__ = ["register"]


async def register(
    server: str,
    *,
    token: str,
    cluster: str,
    recovery_key: str,
    name: str | None = None,
    allow: tuple[str, ...] = (),
) -> AgentConfig:
    """Register this machine as an agent of ``cluster`` on ``server``; the config to save."""
    Allowlist(allow)  # a bad entry is refused before the token is spent
    private, public = generate_key_pair()
    wrapped = wrap_private_key(private, recovery_key)
    body = {
        "token": token,
        "cluster": cluster,
        "name": name or platform.node() or "agent",
        "version": tether.__version__,
        "public_key": public,
        "wrapped_private_key": wrapped,
    }
    async with agent_client() as client:
        try:
            response = await client.post(server.rstrip("/") + "/api/v1/gateway/register", json=body)
        except httpx.HTTPError as exc:
            raise InputError(f"cannot reach the Tether server at {server}: {exc}") from exc
    data = _answer(response)
    if data["public_key"] != public:  # the cluster had keys already: recover its private key
        private = unwrap_private_key(data["wrapped_private_key"], recovery_key)
        if public_key_of(private) != data["public_key"]:
            raise AuthError("the recovered key does not match the cluster's public key")
    return AgentConfig(
        server=server.rstrip("/"),
        member_id=data["member_id"],
        secret=data["secret"],
        cluster=cluster,
        gateway_id=data["gateway_id"],
        public_key=data["public_key"],
        private_key=base64.b64encode(private).decode("ascii"),
        name=body["name"],
        allow=allow,
    )


def _answer(response: httpx.Response) -> dict[str, str]:
    try:
        data = response.json()
    except ValueError:
        data = {}
    if response.status_code >= 400 or not isinstance(data, dict):
        detail = data.get("detail") if isinstance(data, dict) else None
        raise _Refused(
            f"the server refused the registration ({response.status_code}): {detail or response.text[:300]}"
        )
    return {k: str(v) for k, v in data.items()}


class _Refused(TetherError):
    code = "gateway-registration-refused"
    status = 400
