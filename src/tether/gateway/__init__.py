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

from tether.gateway._agent import Agent, AgentRefused, agent_client, backoff_delay, websocket_url
from tether.gateway._allowlist import Allowlist
from tether.gateway._config import DEFAULT_CONFIG_NAME, AgentConfig, load_config, save_config
from tether.gateway._hub import IDEMPOTENT_METHODS, Hub
from tether.gateway._link import AgentLink
from tether.gateway._protocol import PROTOCOL_VERSION, ProtocolViolation, encode_frame
from tether.gateway._registration import register

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
    "agent_client",
    "backoff_delay",
    "encode_frame",
    "load_config",
    "register",
    "save_config",
    "websocket_url",
]
