"""Names users type: environment and connector slugs, usernames."""

from __future__ import annotations

import re
import unicodedata

from tether.errors import InputError

__all__ = ["check_slug", "check_username", "slugify"]

# Names appear in URLs and CLI arguments, hence slugs. Lookups accept a name or an id, so a name
# shaped like a UUID is refused: it could otherwise shadow another row's id.
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


def check_slug(value: str, *, what: str) -> str:
    """Return ``value`` if it is a valid slug name, else raise :class:`InputError` saying how to fix it."""
    if not _SLUG.match(value) or _UUID.match(value):
        raise InputError(
            f"Invalid {what} name {value!r}: use 1-64 lowercase letters, digits and hyphens, "
            "starting and ending with a letter or digit."
        )
    return value


def slugify(title: str) -> str:
    """A slug from a display title: ``"Azure Blob Storage (v2)"`` -> ``"azure-blob-storage-v2"``.

    Accents are folded to ASCII; returns ``""`` when nothing usable is left (e.g. a CJK title), so
    the caller can ask for an explicit name.
    """
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    slug = slug[:64].rstrip("-")
    return slug if _SLUG.match(slug) and not _UUID.match(slug) else ""


def check_username(value: str) -> str:
    """The normalized (lowercased, stripped) username, or :class:`InputError`.

    Usernames are case-insensitive so "Ada" and "ada" cannot be two accounts.
    """
    username = value.strip().lower()
    if not _USERNAME.match(username):
        raise InputError(
            f"Invalid username {value!r}: use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit."
        )
    return username
