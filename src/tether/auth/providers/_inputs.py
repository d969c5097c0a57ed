"""What every provider builder reads, normalised once: ``oAuthSettings`` plus the connection's values.

Connector files are inconsistent in case (``authorizationUrl`` / ``AuthorizationUrl``) and name
connection parameters after the OAuth parameter (``token:customHost``); lookups here ignore both.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Protocol

__all__ = ["OAuthSettingsLike", "ProviderInputs"]


class OAuthSettingsLike(Protocol):
    """The fields of ``tether.definition.OAuthSettings`` that auth reads.

    Auth sits below ``definition`` in the layer graph, so it takes the model structurally instead of
    importing it; ``OAuthSettings`` fits as it is.
    """

    @property
    def identity_provider(self) -> str | None: ...
    @property
    def client_id(self) -> str | None: ...
    @property
    def client_secret(self) -> str | None: ...
    @property
    def scope_list(self) -> list[str]: ...
    @property
    def properties(self) -> dict[str, Any] | None: ...
    @property
    def custom_parameters(self) -> dict[str, Any] | None: ...


@dataclasses.dataclass(frozen=True)
class ProviderInputs:
    """Settings and connection values with case-insensitive lookups.

    A connection parameter named ``clientId``/``clientSecret`` (``token:clientId`` in many connectors:
    "bring your own app") overrides the connector's own client id and secret.
    """

    identity_provider: str
    client_id: str
    client_secret: str | None = dataclasses.field(repr=False)
    scopes: tuple[str, ...]
    custom: Mapping[str, Any] = dataclasses.field(repr=False)
    parameters: Mapping[str, str] = dataclasses.field(repr=False)

    @classmethod
    def build(cls, settings: OAuthSettingsLike, parameters: Mapping[str, Any] | None) -> ProviderInputs:
        """Normalise ``settings`` and the connection's parameter values (keys matched case-insensitively)."""
        params: dict[str, str] = {}
        for name, value in (parameters or {}).items():
            if value is None or isinstance(value, dict | list):
                continue
            text = value if isinstance(value, str) else str(value)
            params[name.lower()] = text
            params.setdefault(name.rsplit(":", 1)[-1].lower(), text)
        custom: dict[str, Any] = {}
        for source in (settings.properties or {}, settings.custom_parameters or {}):
            for key, entry in source.items():
                custom[key.lower()] = entry.get("value") if isinstance(entry, dict) else entry
        return cls(
            identity_provider=(settings.identity_provider or "").strip(),
            client_id=params.get("clientid") or settings.client_id or "",
            client_secret=params.get("clientsecret") or settings.client_secret,
            scopes=tuple(settings.scope_list),
            custom=custom,
            parameters=params,
        )

    def value(self, name: str) -> str | None:
        """A connection parameter's value, else the custom parameter's, matched case-insensitively."""
        key = name.lower()
        if self.parameters.get(key):
            return self.parameters[key]
        found = self.custom.get(key)
        return found if isinstance(found, str) and found.strip() else None
