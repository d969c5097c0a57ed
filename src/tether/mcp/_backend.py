"""What the MCP server runs tool calls on, and who it runs them for."""

from __future__ import annotations

from dataclasses import dataclass, field

from tether.hosting import FlowHost
from tether.secrets import KeyRing
from tether.services import AgentAccess, ConnectorRunner, Principal
from tether.store import Database

__all__ = ["Backend", "Identity"]


@dataclass(frozen=True)
class Backend:
    """The server's parts a tool call uses: the same ones the API's invoke and run routes use.

    ``flows`` is None where no flow runtime runs (then flows are not offered as tools).
    Make one per process and keep it: ``access`` keeps what the agent checks read.
    """

    db: Database
    connectors: ConnectorRunner
    keyring: KeyRing
    flows: FlowHost | None = None
    access: AgentAccess = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "access", AgentAccess(self.db))


@dataclass(frozen=True)
class Identity:
    """The user an MCP session acts for (from their personal access token) and its environment."""

    principal: Principal
    environment: str
