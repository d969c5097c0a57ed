"""The on-premises data gateway: the agent that dials out from a private network, and the server's relay.

    agent (inside the private network)            Tether server
    tether gateway run ──WebSocket (dials out)──▶ /api/v1/gateway/connect ─ Hub (a runtime Relay)
         │ allowlist, sealed credentials opened              ▲
         ▼                                                   │ Transport: connection.gateway set
    private API                                   invoke, /apim, flow actions, trigger polls

Agents of one cluster share its key pair; connections through the gateway keep their secrets
sealed to it (``tether.secrets.seal``), so the server relays what it cannot read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tether.gateway._agent import Agent, AgentRefused, agent_client, backoff_delay, websocket_url
from tether.gateway._allowlist import Allowlist
from tether.gateway._config import DEFAULT_CONFIG_NAME, AgentConfig, load_config, save_config
from tether.gateway._protocol import PROTOCOL_VERSION, ProtocolViolation, encode_frame
from tether.gateway._registration import register

if TYPE_CHECKING:
    from tether.gateway._bridge import RedisBridge
    from tether.gateway._hub import IDEMPOTENT_METHODS, Hub
    from tether.gateway._link import AgentLink

# The server's side (the relay) imports the services and the store; the agent, run inside a private
# network as 'tether gateway run', needs neither, so those names load on first use (PEP 562).
_SERVER_SIDE = {"Hub": "_hub", "IDEMPOTENT_METHODS": "_hub", "AgentLink": "_link", "RedisBridge": "_bridge"}


def __getattr__(name: str) -> Any:
    module = _SERVER_SIDE.get(name)
    if module is None:
        raise AttributeError(f"module 'tether.gateway' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"tether.gateway.{module}"), name)


__all__ = [
    "DEFAULT_CONFIG_NAME",
    "IDEMPOTENT_METHODS",
    "PROTOCOL_VERSION",
    "Agent",
    "AgentConfig",
    "AgentLink",
    "AgentRefused",
    "Allowlist",
    "Hub",
    "ProtocolViolation",
    "RedisBridge",
    "agent_client",
    "backoff_delay",
    "encode_frame",
    "load_config",
    "register",
    "save_config",
    "websocket_url",
]
