"""The placeholder syntax of ``oauth2generic`` templates, as the corpus writes it.

``{Name}`` is replaced by, in order (names match case-insensitively):

1. the flow's own values: ``{State}``, ``{RedirectUrl}``, ``{Code}``, ``{RefreshToken}``, ``{Scopes}``
   (joined with ``scopeListDelimiter``, default a space);
2. a connection parameter (``{CustomHost}`` ⇐ ``token:customHost``; ``{ClientId}`` ⇐ ``token:ClientId``
   when the connector lets users bring their own app);
3. ``{ClientId}`` / ``{ClientSecret}`` from ``oAuthSettings``;
4. a custom parameter (``{uS_domain}``-style keys in NetDocuments);
5. region-prefixed alternatives: when custom parameters have keys ``US_domain``, ``AU_domain``… a
   placeholder ``{AU_domain}`` expands only if some connection parameter has the value ``AU`` (the
   user's region choice) and to nothing otherwise; ``{US_clientSecret}`` falls back to ``{clientSecret}``.

Anything else is an ``InputError`` naming the placeholder. Values are percent-encoded in query
strings and bodies, and inserted as written in URL templates (they are host names or whole URLs).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final
from urllib.parse import quote

from tether.auth.providers._inputs import ProviderInputs
from tether.errors import InputError

__all__ = ["render"]

_PLACEHOLDER: Final = re.compile(r"\{([A-Za-z0-9_.:-]+)\}")


def render(template: str, inputs: ProviderInputs, flow: Mapping[str, str], *, encode: bool) -> str:
    """``template`` with every placeholder replaced (see the module docstring for the lookup order)."""
    flow_values = {k.lower(): v for k, v in flow.items()}
    selected = {v.lower() for v in inputs.parameters.values()}
    prefixes = {key.split("_", 1)[0] for key in inputs.custom if "_" in key}

    def lookup(name: str) -> str:
        key = name.lower()
        if key in flow_values:
            return flow_values[key]
        if inputs.parameters.get(key):
            return inputs.parameters[key]
        if key == "clientid" and inputs.client_id:
            return inputs.client_id
        if key == "clientsecret" and inputs.client_secret:
            return inputs.client_secret
        custom = inputs.custom.get(key)
        prefix, _, rest = key.partition("_")
        if rest and prefix in prefixes:
            if prefix not in selected:
                return ""  # an alternative for a region the user did not choose
            return custom if isinstance(custom, str) and custom else lookup(rest)
        if isinstance(custom, str):
            return custom
        raise InputError(
            f"{inputs.identity_provider or 'oauth2generic'}: template placeholder {{{name}}} has no value; "
            "add a connection parameter or custom parameter with that name",
            detail={"placeholder": name},
        )

    def replace(match: re.Match[str]) -> str:
        value = lookup(match.group(1))
        return quote(value, safe="") if encode else value

    return _PLACEHOLDER.sub(replace, template)
