"""Client ids that are not client ids: what publishers write instead of their OAuth app.

161 of the corpus's 248 OAuth parameters carry ``<Enter Your Client ID>``, ``[[DUMMY]]``,
``PLACEHOLDER_CLIENTID``, ``{{ client id }}`` or nothing at all, because publishers do not
publish their OAuth apps. Such a value is treated as missing: the connector's owner sets the
real one (``tether connector create/update --client-id``), ``validate`` warns, and consent
never sends it to an authorization server.
"""

from __future__ import annotations

import re

__all__ = ["is_placeholder_client_id"]

_BRACKETED = re.compile(r"^\s*(<.*>|\[.*\]|\{.*\})\s*$", re.DOTALL)
# Words no real client id holds, once lower-cased and stripped of separators.
_WORDS = (
    "dummy", "placeholder", "enter", "your", "clientid", "appid", "replace", "pleaseadd", "changeme",
    "required",
)  # fmt: skip


def is_placeholder_client_id(value: object) -> bool:
    """True for an empty, bracketed or instructional client id (``<Enter Your Client ID>``)."""
    if not isinstance(value, str) or not value.strip() or value.strip().lower() == "none":
        return True
    if _BRACKETED.match(value):
        return True
    squashed = re.sub(r"[^a-z0-9]", "", value.lower())
    # "xxxxxxxx", "00000000-0000-0000-0000-000000000000": a shape, not an id.
    return set(squashed) <= {"x"} or set(squashed) <= {"0"} or any(word in squashed for word in _WORDS)
