"""Recognising credentials in example requests and mapping them to security schemes.

A cURL command or a captured request usually carries a real token. It must never reach the
package (not as a default, not as ``x-ms-test-value``, not in a description): the value is
dropped, the user is told, and the *place* it was sent becomes a security scheme plus the
connection parameters Power Platform uses for it (``api_key``; ``username``/``password``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["Credential", "is_secret_name", "scheme_for"]

# Names that hold secrets often enough that their values are never copied.
_SECRET_NAME = re.compile(
    r"(^|[-_.])(auth|authorization|api[-_.]?key|apikey|key|token|access[-_.]?token|secret|client[-_.]?secret|"
    r"password|passwd|pwd|signature|sig|session|cookie|subscription[-_.]?key|credential|credentials)($|[-_.])",
    re.IGNORECASE,
)
_SECRET_WORD = re.compile(r"(token|secret|password|apikey|api_key|api-key|signature)", re.IGNORECASE)


def is_secret_name(name: str) -> bool:
    """True when a header, query or form field called ``name`` likely carries a credential."""
    return bool(_SECRET_NAME.search(name) or _SECRET_WORD.search(name))


@dataclass(frozen=True)
class Credential:
    """Where a credential was sent: ``kind`` basic, bearer or apiKey; ``location`` header or query;
    ``name`` the header or query name. The value itself is never kept."""

    kind: Literal["basic", "bearer", "apiKey"]
    location: Literal["header", "query"]
    name: str

    def describe(self) -> str:
        if self.kind == "basic":
            return "HTTP Basic credentials"
        where = "header" if self.location == "header" else "query parameter"
        return f"a {'bearer token' if self.kind == 'bearer' else 'key'} in the {where} {self.name!r}"


def scheme_for(credential: Credential) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(securityDefinitions key, scheme, apiProperties connectionParameters) for a credential."""
    if credential.kind == "basic":
        return (
            "basic_auth",
            {"type": "basic"},
            {
                "username": _secure("Username", "The user name for this API"),
                "password": _secure("Password", "The password for this API"),
            },
        )
    described = "a bearer token (type 'Bearer ' before it)" if credential.kind == "bearer" else "your API key"
    scheme = {"type": "apiKey", "in": credential.location, "name": credential.name}
    return "API Key", scheme, {"api_key": _secure("API Key", f"Provide {described}")}


def _secure(display: str, description: str) -> dict[str, Any]:
    return {
        "type": "securestring",
        "uiDefinition": {
            "displayName": display,
            "description": description,
            "tooltip": description,
            "constraints": {"tabIndex": 2, "clearText": False, "required": "true"},
        },
    }
