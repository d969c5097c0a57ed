"""Secrets in flow runs: sealed at rest, masked in history, real only while the engine evaluates.

A run meets secrets in three ways: ``SecureString``/``SecureObject`` flow parameters, secret request
headers on its trigger (``Authorization``, ``x-api-key``, …), and whatever the flow computes from
them (an Http action's ``authentication``, a header built with ``concat``). Logic Apps shows none of
them in run history, yet a flow must still *use* them: ``@triggerOutputs()?['headers']?['x-api-key']``
has to see the key so the flow can check it. So:

- at rest, those values are *sealed*: replaced by ``{"$tether.sealed": <KeyRing token>}``, in the
  flow's parameters, the run's parameters and its trigger; :func:`unseal` turns them back into the
  real values when a run is claimed, and nowhere else;
- in history, every record the journal writes is masked by value (:class:`RunPrivacy`): each secret
  string, and its base64 and URL-encoded forms, becomes ``*** redacted ***`` wherever it appears;
- with the environment's ``encrypt_run_data`` on, whole run bodies (trigger, action records, outputs,
  error, variables) are sealed too, and readers unseal them.

Key rotation keeps working: a sealed value is a KeyRing token, which every key on the ring decrypts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from tether.flows.engine import REDACTED, redact_headers
from tether.secrets import KeyRing, secret_forms

__all__ = [
    "SEALED",
    "SECURE_TYPES",
    "RunPrivacy",
    "hide_sealed",
    "mask_secrets",
    "open_envelope",
    "seal",
    "seal_parameters",
    "seal_trigger_headers",
    "secret_pattern",
    "secret_strings",
    "secure_parameter_names",
    "shown_body",
    "shown_trigger",
    "stored_trigger",
    "unseal",
]

SEALED: Final = "$tether.sealed"
SECURE_TYPES: Final = frozenset({"securestring", "secureobject"})
# Shorter strings would mask half of every record ("abc" is everywhere); such secrets are not secret.
MIN_SECRET_LENGTH: Final = 4


def seal(value: Any, keyring: KeyRing) -> dict[str, str]:
    """``value`` encrypted with the key ring, in the marker object :func:`unseal` recognises."""
    return {SEALED: keyring.encrypt_json(value)}


def _is_sealed(value: Any) -> bool:
    return isinstance(value, Mapping) and len(value) == 1 and isinstance(value.get(SEALED), str)


def unseal(value: Any, keyring: KeyRing | None) -> Any:
    """``value`` with every sealed part decrypted (unchanged when nothing in it is sealed)."""
    if _is_sealed(value):
        if keyring is None:
            return REDACTED  # a reader without keys: the value exists, but is not for it
        return unseal(keyring.decrypt_json(value[SEALED]), keyring)
    if isinstance(value, Mapping):
        return {key: unseal(item, keyring) for key, item in value.items()}
    if isinstance(value, list):
        return [unseal(item, keyring) for item in value]
    return value


def open_envelope(value: Any, keyring: KeyRing | None) -> Any:
    """A run body sealed whole (``encrypt_run_data``) decrypted one level, for showing: values sealed
    inside it (secure parameters, secret headers) stay sealed, and :func:`hide_sealed` hides them."""
    if _is_sealed(value) and keyring is not None:
        return keyring.decrypt_json(value[SEALED])
    return value


def shown_body(value: Any, keyring: KeyRing | None) -> Any:
    """A stored run body as history shows it: its envelope opened, whatever is sealed inside hidden."""
    return hide_sealed(open_envelope(value, keyring))


def stored_trigger(trigger: Mapping[str, Any], keyring: KeyRing | None, *, encrypt: bool) -> Any:
    """The trigger result as a run row keeps it: secret headers sealed, and the whole sealed when the
    environment seals run data. A trigger already stored that way (a resubmitted run's) is kept."""
    if _is_sealed(trigger):
        return dict(trigger)
    kept = seal_trigger_headers(trigger, keyring)
    return seal(kept, keyring) if encrypt and keyring is not None else kept


def hide_sealed(value: Any) -> Any:
    """``value`` with every sealed part shown as the redaction marker (for flow and run views)."""
    if _is_sealed(value):
        return REDACTED
    if isinstance(value, Mapping):
        return {key: hide_sealed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [hide_sealed(item) for item in value]
    return value


def secure_parameter_names(definition: Mapping[str, Any]) -> frozenset[str]:
    """Names of the definition's ``SecureString``/``SecureObject`` parameters."""
    declared = definition.get("parameters")
    if not isinstance(declared, Mapping):
        return frozenset()
    return frozenset(
        name
        for name, spec in declared.items()
        if isinstance(spec, Mapping) and str(spec.get("type", "")).lower() in SECURE_TYPES
    )


def seal_parameters(values: Mapping[str, Any], names: Iterable[str], keyring: KeyRing) -> dict[str, Any]:
    """``values`` with the secure ones sealed (values already sealed are kept as they are)."""
    secure = set(names)
    sealed = dict(values)
    for name, value in values.items():
        if name in secure and value is not None and not _is_sealed(value):
            sealed[name] = seal(value, keyring)
    return sealed


def seal_trigger_headers(trigger: Mapping[str, Any], keyring: KeyRing | None) -> dict[str, Any]:
    """The trigger result to store: secret header values sealed (redacted when there is no key ring,
    which loses them for evaluation: only callers that cannot reach keys take that road)."""
    outputs = trigger.get("outputs")
    headers = outputs.get("headers") if isinstance(outputs, Mapping) else None
    if not isinstance(outputs, Mapping) or not isinstance(headers, Mapping):
        return dict(trigger)
    shown = redact_headers({"headers": headers})["headers"]
    kept = {
        name: (seal(value, keyring) if keyring is not None else REDACTED)
        if shown[name] == REDACTED and not _is_sealed(value)
        else value
        for name, value in headers.items()
    }
    return {**trigger, "outputs": {**outputs, "headers": kept}}


def shown_trigger(trigger: Mapping[str, Any], secrets: Iterable[str] = ()) -> dict[str, Any]:
    """The trigger as run history shows it: sealed parts and secret headers hidden, secrets masked."""
    return mask_secrets(redact_headers(hide_sealed(trigger)), run_secret_forms(secrets))  # type: ignore[no-any-return]


def secret_strings(value: Any) -> set[str]:
    """The strings inside ``value`` (a SecureObject's leaves too) long enough to mask."""
    found: set[str] = set()
    if isinstance(value, str):
        if len(value) >= MIN_SECRET_LENGTH:
            found.add(value)
    elif isinstance(value, Mapping):
        for item in value.values():
            found |= secret_strings(item)
    elif isinstance(value, list):
        for item in value:
            found |= secret_strings(item)
    elif isinstance(value, int | float) and not isinstance(value, bool) and len(str(value)) >= 6:
        found.add(str(value))
    return found


def run_secret_forms(secrets: Iterable[str]) -> tuple[str, ...]:
    """The forms of each secret that run history masks: shorter than ``MIN_SECRET_LENGTH`` they would
    mask ordinary text (a one-letter value everywhere it appears)."""
    return secret_forms(secrets, min_length=MIN_SECRET_LENGTH)


def mask_secrets(value: Any, forms: tuple[str, ...] | re.Pattern[str]) -> Any:
    """``value`` with every occurrence of each form replaced by the redaction marker (``forms`` as
    from :func:`run_secret_forms`, or :func:`secret_pattern` of them: one scan per string)."""
    if not forms:
        return value
    pattern = forms if isinstance(forms, re.Pattern) else secret_pattern(forms)
    return _mask(value, pattern)


def secret_pattern(forms: tuple[str, ...]) -> re.Pattern[str]:
    """One regular expression matching any form, longest first."""
    return re.compile("|".join(re.escape(form) for form in forms))


def _mask(value: Any, pattern: re.Pattern[str]) -> Any:
    if isinstance(value, str):
        return pattern.sub(REDACTED, value) if pattern.search(value) else value
    if isinstance(value, Mapping):
        return {key: _mask(item, pattern) for key, item in value.items()}
    if isinstance(value, list):
        return [_mask(item, pattern) for item in value]
    if isinstance(value, int | float) and not isinstance(value, bool) and pattern.fullmatch(str(value)):
        return REDACTED
    return value


@dataclass(frozen=True)
class RunPrivacy:
    """What one run's journal hides: the secret values it knows of, and whether bodies are sealed.

    ``keyring`` is None only where no key ring was configured (library use of the engine): then
    nothing can be sealed, and masking is all there is.
    """

    secrets: frozenset[str] = frozenset()
    encrypt: bool = False
    keyring: KeyRing | None = None
    forms: tuple[str, ...] = field(init=False, default=())
    pattern: re.Pattern[str] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        forms = run_secret_forms(self.secrets)
        object.__setattr__(self, "forms", forms)
        object.__setattr__(self, "pattern", secret_pattern(forms) if forms else None)

    def shown(self, value: Any) -> Any:
        """``value`` as history may keep it: every secret masked."""
        return _mask(value, self.pattern) if self.pattern is not None else value

    def stored(self, value: Any) -> Any:
        """``value`` as history keeps it at rest: masked, then sealed when the environment says so."""
        shown = self.shown(value)
        if self.encrypt and self.keyring is not None and shown is not None:
            return seal(shown, self.keyring)
        return shown

    def stored_state(self, value: Any) -> Any:
        """Variables and decisions: a resumed run needs them real, so they are sealed, never masked,
        when they hold a secret (or the environment seals run data)."""
        if self.keyring is None:
            return self.shown(value)
        if self.encrypt or (self.pattern is not None and _holds(value, self.pattern)):
            return seal(value, self.keyring)
        return value


def _holds(value: Any, pattern: re.Pattern[str]) -> bool:
    if isinstance(value, str):
        return pattern.search(value) is not None
    if isinstance(value, Mapping):
        return any(_holds(item, pattern) for item in value.values())
    if isinstance(value, list):
        return any(_holds(item, pattern) for item in value)
    return False
