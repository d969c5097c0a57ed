"""tether.gateway's public names are pinned: changing them is a decision, not an accident."""

from __future__ import annotations

import tether.gateway

EXPECTED = [
    "DEFAULT_CONFIG_NAME", "IDEMPOTENT_METHODS", "PROTOCOL_VERSION", "Agent", "AgentConfig", "AgentLink",
    "AgentRefused", "Allowlist", "Hub", "ProtocolViolation", "RedisBridge", "agent_client", "backoff_delay",
    "encode_frame", "load_config", "register", "save_config", "websocket_url",
]  # fmt: skip


def test_public_names_are_pinned() -> None:
    assert sorted(tether.gateway.__all__) == sorted(EXPECTED)
    for name in tether.gateway.__all__:
        assert hasattr(tether.gateway, name), name
