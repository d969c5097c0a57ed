"""The connection form in HTML terms: an input per connector parameter, and the values posted back.

The services describe what connecting asks for (:class:`tether.services.ParameterSetForm`, one per
parameter set of a multi-auth connector) and check the values (``check_values``, every bad field
at once). This module only translates: each field becomes the right control — a password box for
secure strings (never filled back in), a select for allowed values and booleans (a checkbox cannot
say "not given"), a number box for integers — and a posted form becomes the ``values`` mapping of
the chosen parameter set. Every set's fields share one HTML form, so names carry the set:
``param:<set>:<name>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from tether.services import FormField, ParameterSetForm

__all__ = [
    "FieldControl",
    "field_controls",
    "input_name",
    "keep_posted",
    "posted_secrets",
    "submitted_values",
]

_BOOL_CHOICES = (("", "(default)"), ("true", "Yes"), ("false", "No"))


@dataclass(frozen=True, slots=True)
class FieldControl:
    """One control of the connection form: what the template draws for a field."""

    field: FormField
    name: str  # the HTML name
    element: str  # input | select
    input_type: str  # text | password | number (for input)
    choices: tuple[tuple[str, str], ...]  # (value, text) for select
    required: bool
    value: str  # pre-filled text: defaults only, never a stored value


def input_name(form: ParameterSetForm, field: FormField) -> str:
    """The HTML name of ``field`` in ``form`` (the set's name, empty for a single-auth connector)."""
    return f"param:{form.name or ''}:{field.name}"


def field_controls(form: ParameterSetForm, *, editing: bool = False) -> list[FieldControl]:
    """The controls for ``form``'s fillable, visible fields, in tab order.

    When ``editing``, nothing is required: a blank field keeps the stored value (the services never
    hand a stored value back, so the page cannot show it).
    """
    controls = []
    for field in form.fields:
        if not field.fillable or field.hidden:
            continue
        default = "" if field.default is None or field.secret else str(field.default)
        if field.allowed_values:
            choices = (("", "(choose)"), *((value, text) for text, value in field.allowed_values))
            element, input_type = "select", ""
        elif field.kind == "bool":
            choices, element, input_type = _BOOL_CHOICES, "select", ""
            default = {"True": "true", "False": "false"}.get(default, default.lower())
        else:
            choices, element = (), "input"
            input_type = "password" if field.secret else ("number" if field.kind == "int" else "text")
        controls.append(
            FieldControl(
                field=field,
                name=input_name(form, field),
                element=element,
                input_type=input_type,
                choices=choices,
                required=field.required and not editing and field.default is None,
                value=default,
            )
        )
    return controls


def submitted_values(form: ParameterSetForm, posted: Mapping[str, Any]) -> dict[str, str]:
    """The non-blank values posted for ``form``'s fields (other sets' fields are ignored).

    Blank means "not given": on create the services apply the default or report the field as
    required; on edit the stored value stays.
    """
    values = {}
    for field in form.fields:
        if not field.fillable:
            continue
        raw = posted.get(input_name(form, field))
        if isinstance(raw, str) and raw != "":
            values[field.name] = raw
    return values


def keep_posted(controls: list[FieldControl], posted: Mapping[str, Any]) -> list[FieldControl]:
    """``controls`` filled with what the user posted, to show their input again after a refused save.

    Secure fields stay empty: a secret is never sent back to the browser, even the user's own.
    """
    kept = []
    for control in controls:
        raw = posted.get(control.name)
        if isinstance(raw, str) and not control.field.secret:
            control = replace(control, value=raw)
        kept.append(control)
    return kept


def posted_secrets(controls: list[FieldControl], posted: Mapping[str, Any]) -> bool:
    """Whether the user typed a value into a secure field (which :func:`keep_posted` leaves empty)."""
    return any(control.field.secret and posted.get(control.name) for control in controls)
