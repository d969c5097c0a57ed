"""OAuth client secrets inside ``apiProperties.json``: sealed at rest, a placeholder in downloads.

A connector's package carries its OAuth app's ``clientSecret`` (``connectionParameters.<p>.
oAuthSettings.clientSecret``, and the same under each ``connectionParameterSets`` entry). Any member
of the environment may download a connector, and the database file is a copy of everything, so:

- on save, each secret is replaced by ``tether-sealed:<KeyRing token>``;
- a saved secret that comes back as the download's placeholder, empty, or missing keeps the value
  the previous revision had (so "download, edit, upload" never wipes it); a new value replaces it;
- downloads (and every other reader of revision files) see :data:`CLIENT_SECRET_PLACEHOLDER`;
- the runtime and consent read the properties through :func:`unseal_client_secrets`.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any, Final

from tether.definition import PROPERTIES_FILE, parse_document
from tether.errors import TetherError
from tether.secrets import KeyRing

__all__ = [
    "CLIENT_SECRET_PLACEHOLDER",
    "mask_client_secrets",
    "seal_client_secrets",
    "unseal_client_secrets",
]

CLIENT_SECRET_PLACEHOLDER: Final = "<stored client secret: upload unchanged to keep it>"
_SEALED_PREFIX: Final = "tether-sealed:"
_SECRET: Final = "clientSecret"


def _load(raw: bytes | None) -> Any:
    if not raw:
        return None
    try:  # leniently, as packages are read (BOM, comments, trailing commas)
        return parse_document(raw, name=PROPERTIES_FILE, format="json").data
    except TetherError:
        return None  # broken JSON: the package loader reports what is wrong


def _rewrite(raw: bytes, data: Any, swaps: list[tuple[str, str]]) -> bytes:
    """``raw`` with each ``"clientSecret": <old>`` literal replaced by ``<new>`` in place, so the rest
    of the file (formatting, comments, BOM) stays byte for byte as uploaded; the whole document
    re-serialised only when a literal cannot be found (an unusual escape)."""
    bom = raw.startswith(codecs.BOM_UTF8)
    try:
        text = raw[len(codecs.BOM_UTF8) :].decode() if bom else raw.decode()
    except UnicodeDecodeError:
        return _dump(data)
    for old, new in swaps:
        for literal in dict.fromkeys((json.dumps(old, ensure_ascii=False), json.dumps(old))):
            pattern = re.compile(r'("clientSecret"\s*:\s*)' + re.escape(literal))
            if pattern.search(text):
                replacement = json.dumps(new, ensure_ascii=False)

                def keep_key(match: re.Match[str], value: str = replacement) -> str:
                    return match.group(1) + value

                text = pattern.sub(keep_key, text, count=1)
                break
        else:
            return _dump(data)
    return (codecs.BOM_UTF8 if bom else b"") + text.encode()


def _settings(data: Any) -> Iterator[tuple[str, MutableMapping[str, Any]]]:
    """Every ``oAuthSettings`` object in the properties, with a key naming where it sits."""
    props = data.get("properties") if isinstance(data, dict) else None
    if not isinstance(props, dict):
        return
    params = props.get("connectionParameters")
    if isinstance(params, dict):
        for name, param in params.items():
            settings = param.get("oAuthSettings") if isinstance(param, dict) else None
            if isinstance(settings, dict):
                yield f"connectionParameters/{name}", settings
    sets = props.get("connectionParameterSets")
    values = sets.get("values") if isinstance(sets, dict) else None
    for index, entry in enumerate(values if isinstance(values, list) else []):
        params = entry.get("parameters") if isinstance(entry, dict) else None
        set_name = entry.get("name", index) if isinstance(entry, dict) else index
        for name, param in (params or {}).items() if isinstance(params, dict) else ():
            settings = param.get("oAuthSettings") if isinstance(param, dict) else None
            if isinstance(settings, dict):
                yield f"connectionParameterSets/{set_name}/{name}", settings


def _dump(data: Any) -> bytes:
    return json.dumps(data, indent=2, ensure_ascii=False).encode()


def seal_client_secrets(
    files: Mapping[str, bytes], previous: Mapping[str, bytes] | None, keyring: KeyRing | None
) -> dict[str, bytes]:
    """``files`` as a new revision stores them: client secrets sealed, placeholders (or empty or
    missing secrets) replaced by the previous revision's value at the same place."""
    data = _load(files.get(PROPERTIES_FILE))
    if data is None:
        return dict(files)
    before = {where: s.get(_SECRET) for where, s in _settings(_load((previous or {}).get(PROPERTIES_FILE)))}
    swaps: list[tuple[str, str]] = []
    reshaped = False  # a secret added or removed: no literal to swap in place
    for where, settings in _settings(data):
        value = settings.get(_SECRET)
        kept = before.get(where)
        text = value if isinstance(value, str) else ""
        if not text or text == CLIENT_SECRET_PLACEHOLDER or text.startswith(_SEALED_PREFIX):
            # Keep what the previous revision had. A sealed value counts as a placeholder: another
            # connector's sealed secret must not be carried in by an upload.
            new = kept if isinstance(kept, str) and kept else None
        else:
            new = text
        if new and keyring is not None and not new.startswith(_SEALED_PREFIX):
            new = _SEALED_PREFIX + keyring.encrypt(new)
        if new == value:
            continue
        if isinstance(value, str) and new:
            swaps.append((value, new))
        else:
            reshaped = True
        if new:
            settings[_SECRET] = new
        else:
            settings.pop(_SECRET, None)
    if not swaps and not reshaped:
        return dict(files)
    raw = files[PROPERTIES_FILE]
    return {**files, PROPERTIES_FILE: _dump(data) if reshaped else _rewrite(raw, data, swaps)}


def mask_client_secrets(files: Mapping[str, bytes]) -> dict[str, bytes]:
    """``files`` as members may see them: every client secret shown as the placeholder."""
    data = _load(files.get(PROPERTIES_FILE))
    if data is None:
        return dict(files)
    swaps = []
    for _where, settings in _settings(data):
        value = settings.get(_SECRET)
        if isinstance(value, str) and value and value != CLIENT_SECRET_PLACEHOLDER:
            swaps.append((value, CLIENT_SECRET_PLACEHOLDER))
            settings[_SECRET] = CLIENT_SECRET_PLACEHOLDER
    if not swaps:
        return dict(files)
    return {**files, PROPERTIES_FILE: _rewrite(files[PROPERTIES_FILE], data, swaps)}


def unseal_client_secrets(raw: bytes | None, keyring: KeyRing | None) -> bytes | None:
    """The apiProperties bytes with sealed client secrets decrypted: for the runtime and consent."""
    if raw is None or keyring is None or _SEALED_PREFIX.encode() not in raw:
        return raw
    data = _load(raw)
    swaps = []
    for _where, settings in _settings(data):
        value = settings.get(_SECRET)
        if isinstance(value, str) and value.startswith(_SEALED_PREFIX):
            real = keyring.decrypt_text(value.removeprefix(_SEALED_PREFIX))
            swaps.append((value, real))
            settings[_SECRET] = real
    return _rewrite(raw, data, swaps) if swaps else raw
