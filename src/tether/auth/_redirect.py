"""Which redirect URI a connector's OAuth consent uses (REFERENCE.md §1, "Redirect URIs")."""

from __future__ import annotations

from typing import Final

from tether.errors import InputError

__all__ = ["DEFAULT_REDIRECT_MODE", "REDIRECT_MODE_NAMES", "normalize_redirect_mode", "redirect_uri"]

REDIRECT_MODE_NAMES: Final = ("Global", "GlobalPerConnector", "Direct")
# New connectors get a unique URI per connector (the migration away from Global): absent means that.
DEFAULT_REDIRECT_MODE: Final = "GlobalPerConnector"
_BY_LOWER: Final = {name.lower(): name for name in REDIRECT_MODE_NAMES}


def normalize_redirect_mode(mode: str | None) -> str:
    """``mode`` spelled canonically (``global`` ⇒ ``Global``); ``None`` or blank ⇒ ``GlobalPerConnector``.

    Raises ``InputError`` naming the choices for anything else.
    """
    if mode is None or not mode.strip():
        return DEFAULT_REDIRECT_MODE
    found = _BY_LOWER.get(mode.strip().lower())
    if found is None:
        raise InputError(
            f"unknown redirectMode {mode!r}; use one of: {', '.join(REDIRECT_MODE_NAMES)}",
            detail={"redirectMode": mode, "choices": list(REDIRECT_MODE_NAMES)},
        )
    return found


def redirect_uri(
    public_url: str, mode: str | None, connector_id: str, *, configured: str | list[str] | None = None
) -> str:
    """The redirect URI to send to the provider and register in the OAuth app.

    * ``Global`` ⇒ ``{public_url}/redirect`` (one URI for every connector; being migrated away from)
    * ``GlobalPerConnector`` (and an absent mode) ⇒ ``{public_url}/redirect/{connector_id}``
    * ``Direct`` ⇒ ``configured``, the connector's own ``redirectUrl`` (the first one when it is a list):
      the owner registered that exact URL with the provider and routes it to Tether themselves. When the
      connector gives none (the corpus has such a Direct connector), the per-connector URI is used, as
      it is the one Tether serves and the safest default.

    Mode names are matched case-insensitively.
    """
    base = public_url.rstrip("/")
    canonical = normalize_redirect_mode(mode)
    if canonical == "Global":
        return f"{base}/redirect"
    if canonical == "Direct":
        first = configured[0] if isinstance(configured, list) and configured else configured
        if isinstance(first, str) and first.strip():
            return first.strip()
    return f"{base}/redirect/{connector_id}"
