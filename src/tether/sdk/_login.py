"""Where the server is and which token to send: explicit, else the environment, else ``tether login``.

The SDK reads the same places as the CLI, so a script run by someone who ran ``tether login``
needs no configuration: ``TETHER_URL``/``TETHER_TOKEN``, then ``$TETHER_HOME/credentials.json``
(``~/.tether`` by default). A saved token is used only for the server it was saved for.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tether.sdk._errors import ClientError

__all__ = ["Login", "NotLoggedIn", "resolve_login"]

CREDENTIALS_FILE = "credentials.json"  # what 'tether login' writes (tether.cli._client)
DEFAULT_HOME = "~/.tether"


class NotLoggedIn(ClientError):
    """No server URL or token was given and none was saved by ``tether login``."""

    code = "not-logged-in"


@dataclass(frozen=True)
class Login:
    """A server URL and the personal access token to call it with."""

    base_url: str
    token: str

    def __repr__(self) -> str:  # never show the token
        return f"Login(base_url={self.base_url!r}, token='***')"


def _saved(home: Path) -> Login | None:
    try:
        data = json.loads((home / CREDENTIALS_FILE).read_text())
        return Login(base_url=str(data["server"]), token=str(data["token"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def resolve_login(
    base_url: str | None, token: str | None, *, environ: Mapping[str, str] | None = None
) -> Login:
    """The login to use; :class:`NotLoggedIn` saying how to give one when there is none."""
    env = os.environ if environ is None else environ
    base_url = base_url or env.get("TETHER_URL") or None
    token = token or env.get("TETHER_TOKEN") or None
    if base_url is None or token is None:
        saved = _saved(Path(env.get("TETHER_HOME") or DEFAULT_HOME).expanduser())
        if saved is not None and (base_url is None or saved.base_url.rstrip("/") == base_url.rstrip("/")):
            base_url = base_url or saved.base_url
            token = token or saved.token
    if base_url is None or token is None:
        raise NotLoggedIn(
            "no Tether server or token: pass Client(base_url, token=...), set TETHER_URL and "
            "TETHER_TOKEN, or run 'tether login --server URL' once"
        )
    return Login(base_url=base_url.rstrip("/"), token=token)
