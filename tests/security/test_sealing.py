"""The pieces behind the leak tests, without a server: masking by value, sealing, client secrets
swapped in place (the rest of apiProperties byte for byte)."""

from __future__ import annotations

import base64
import codecs
import json

from tether.definition import PROPERTIES_FILE, parse_document
from tether.flows.engine import REDACTED
from tether.secrets import KeyRing
from tether.services._client_secrets import (
    CLIENT_SECRET_PLACEHOLDER,
    mask_client_secrets,
    seal_client_secrets,
    unseal_client_secrets,
)
from tether.services._run_secrets import RunPrivacy, seal, shown_trigger, stored_trigger, unseal

RING = KeyRing.from_keys(KeyRing.generate_key())
SECRET = "s3cret-value-9a8b"


def test_history_masks_every_form_of_a_secret_and_keeps_the_rest() -> None:
    privacy = RunPrivacy(frozenset({SECRET}))
    encoded = base64.b64encode(f"{SECRET}".encode()).decode()
    record = {
        "inputs": {"uri": f"https://x/?q={SECRET}", "b64": encoded, "url": "a%20" + SECRET.replace("-", "-")},
        "outputs": [SECRET, "harmless"],
        "error": {"message": f"failed with {SECRET}"},
    }
    shown = privacy.shown(record)
    assert SECRET not in json.dumps(shown) and encoded not in json.dumps(shown)
    assert shown["outputs"] == [REDACTED, "harmless"]
    assert shown["error"]["message"] == f"failed with {REDACTED}"


def test_state_with_a_secret_is_sealed_not_masked_so_a_resumed_run_has_it() -> None:
    privacy = RunPrivacy(frozenset({SECRET}), keyring=RING)
    state = {"variables": {"kept": SECRET}, "decisions": {}}
    stored = privacy.stored_state(state)
    assert SECRET not in json.dumps(stored)
    assert unseal(stored, RING) == state
    assert privacy.stored_state({"variables": {"x": 1}}) == {"variables": {"x": 1}}


def test_trigger_headers_are_sealed_at_rest_real_when_unsealed_hidden_when_shown() -> None:
    trigger = {"name": "manual", "outputs": {"headers": {"x-api-key": SECRET, "accept": "*/*"}, "body": 1}}
    stored = stored_trigger(trigger, RING, encrypt=False)
    assert SECRET not in json.dumps(stored) and stored["outputs"]["headers"]["accept"] == "*/*"
    assert unseal(stored, RING) == trigger
    assert shown_trigger(stored)["outputs"]["headers"]["x-api-key"] == REDACTED
    whole = stored_trigger(trigger, RING, encrypt=True)
    assert set(whole) == {"$tether.sealed"} and unseal(whole, RING) == trigger
    assert stored_trigger(whole, RING, encrypt=True) == whole  # a resubmitted run keeps it as stored
    assert unseal(seal({"a": [SECRET]}, RING), RING) == {"a": [SECRET]}


def _properties(secret: object) -> bytes:
    settings = {"identityProvider": "oauth2", "clientId": "id-1"}
    if secret is not None:
        settings["clientSecret"] = secret
    token = {"type": "oauthSetting", "oAuthSettings": settings}
    text = json.dumps({"properties": {"connectionParameters": {"token": token}}}, indent=4)
    return codecs.BOM_UTF8 + ("// a comment the corpus has\n" + text).encode()


def _secret_of(raw: bytes) -> object:
    data = parse_document(raw, name=PROPERTIES_FILE, format="json").data
    return data["properties"]["connectionParameters"]["token"]["oAuthSettings"].get("clientSecret")


def test_client_secret_is_swapped_in_place_and_kept_on_placeholder_upload() -> None:
    original = {PROPERTIES_FILE: _properties(SECRET), "x": b"y"}
    stored = seal_client_secrets(original, None, RING)
    sealed = stored[PROPERTIES_FILE]
    assert SECRET.encode() not in sealed and sealed.startswith(codecs.BOM_UTF8) and b"// a comment" in sealed
    assert unseal_client_secrets(sealed, RING) == original[PROPERTIES_FILE]  # byte for byte
    shown = mask_client_secrets(stored)[PROPERTIES_FILE]
    assert _secret_of(shown) == CLIENT_SECRET_PLACEHOLDER and shown == _properties(CLIENT_SECRET_PLACEHOLDER)
    # Upload the download: the stored secret stays; no secret at all: stays too.
    again = seal_client_secrets({PROPERTIES_FILE: shown}, stored, RING)[PROPERTIES_FILE]
    assert unseal_client_secrets(again, RING) == original[PROPERTIES_FILE]
    missing = seal_client_secrets({PROPERTIES_FILE: _properties(None)}, stored, RING)[PROPERTIES_FILE]
    assert _secret_of(unseal_client_secrets(missing, RING)) == SECRET
    # A new one replaces it; a sealed value from elsewhere is not accepted.
    new = seal_client_secrets({PROPERTIES_FILE: _properties("new-secret-1")}, stored, RING)[PROPERTIES_FILE]
    assert _secret_of(unseal_client_secrets(new, RING)) == "new-secret-1"
    elsewhere = seal_client_secrets({PROPERTIES_FILE: _properties("other")}, None, RING)
    foreign = _secret_of(elsewhere[PROPERTIES_FILE])
    carried = seal_client_secrets({PROPERTIES_FILE: _properties(foreign)}, stored, RING)[PROPERTIES_FILE]
    assert _secret_of(unseal_client_secrets(carried, RING)) == SECRET
