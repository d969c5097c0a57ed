"""The agent's configuration file: who it is, where its server is, its cluster key and its allowlist.

Written once by ``tether gateway register`` (mode 0600: it holds the agent's secret and the
cluster's private key, like any gateway's local key store) and read by ``tether gateway run``.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from tether.errors import ConfigurationError

__all__ = ["DEFAULT_CONFIG_NAME", "AgentConfig", "load_config", "save_config"]

DEFAULT_CONFIG_NAME = "gateway-agent.json"


@dataclass(frozen=True)
class AgentConfig:
    """A registered agent: its server, identity, cluster key, allowlist."""

    server: str
    member_id: str
    secret: str = field(repr=False)
    cluster: str
    gateway_id: str
    public_key: str
    private_key: str = field(repr=False)  # base64 raw X25519 key
    name: str = "agent"
    allow: tuple[str, ...] = ()

    @property
    def private_key_bytes(self) -> bytes:
        return base64.b64decode(self.private_key)

    def with_allow(self, extra: tuple[str, ...]) -> AgentConfig:
        """This config with more allowlist entries (``--allow`` on the command line)."""
        return replace(self, allow=tuple(dict.fromkeys((*self.allow, *extra))))


def save_config(path: Path, config: AgentConfig) -> Path:
    """Write ``config`` readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps({**asdict(config), "allow": list(config.allow)}, indent=2)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(data)
    os.chmod(path, 0o600)
    return path


def load_config(path: Path) -> AgentConfig:
    """Read an agent's config; a clear error when it is missing or broken."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        data["allow"] = tuple(data.get("allow") or ())
        return AgentConfig(**data)
    except FileNotFoundError as exc:
        raise ConfigurationError(
            f"no gateway agent config at {path}: register the agent first ('tether gateway register')"
        ) from exc
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(f"the gateway agent config at {path} is not valid ({exc})") from exc
