"""Connection forms: what a user must fill to connect, and the check of what they filled.

Built from ``connectionParameters`` (single auth) or ``connectionParameterSets`` (multi-auth:
one form per set, the user picks one). Pure: no database, so the whole corpus can be checked
quickly, and the CLI, API and portal render the same fields in the same order.

Two decisions worth knowing:

* ``oauthSetting`` parameters are not typed in; they are satisfied by signing in (consent).
  When the connector does not carry its OAuth client's id (or secret) and does not ask for them
  itself, the form adds ``<param>:clientId`` (required) and ``<param>:clientSecret`` (optional,
  secret), Power Platform's names for them (its client-credentials connectors declare exactly
  these), so each user can bring their own OAuth app; values are stored encrypted.
* Hidden parameters with a ``defaultValue`` are filled with it; hidden ones without a default
  are offered but never required (the portal would not show them, so nobody could fill them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tether.definition import ApiProperties, ConnectionParameter
from tether.errors import ValidationFailed

__all__ = [
    "CLIENT_ID_SUFFIX",
    "CLIENT_SECRET_SUFFIX",
    "FormField",
    "ParameterSetForm",
    "build_connection_form",
    "check_values",
]

# Power Platform's own names for per-connection OAuth client values (``token:clientId``...).
CLIENT_ID_SUFFIX = ":clientId"
CLIENT_SECRET_SUFFIX = ":clientSecret"
_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}


@dataclass(frozen=True, slots=True)
class FormField:
    """One input of a connection form.

    ``kind`` is the parameter type canonically spelled (``string``, ``securestring``, ``int``,
    ``bool``, ``gatewaySetting``, ``oauthSetting``); ``secret`` fields are asked with hidden input
    and never shown back. ``oauth`` fields take no typed value: they mean "sign in".
    """

    name: str
    kind: str
    label: str
    description: str | None = None
    tooltip: str | None = None
    required: bool = False
    secret: bool = False
    hidden: bool = False
    tab_index: int | None = None
    allowed_values: tuple[tuple[str, str], ...] = ()
    default: Any = None
    identity_provider: str | None = None

    @property
    def oauth(self) -> bool:
        return self.kind == "oauthSetting"

    @property
    def fillable(self) -> bool:
        """Whether the user types a value (everything but the sign-in field)."""
        return not self.oauth


@dataclass(frozen=True, slots=True)
class ParameterSetForm:
    """The fields of one way to connect; ``name`` is ``None`` for a single-auth connector."""

    name: str | None
    label: str
    description: str | None
    fields: tuple[FormField, ...]

    @property
    def oauth_field(self) -> FormField | None:
        return next((f for f in self.fields if f.oauth), None)

    def field(self, name: str) -> FormField | None:
        return next((f for f in self.fields if f.name == name), None)


def build_connection_form(properties: ApiProperties) -> tuple[ParameterSetForm, ...]:
    """Every way to connect to a connector, each with its fields in tab order.

    A connector with no parameters yields one empty form: connecting needs nothing. When a
    connector declares parameter sets, they win over its top-level ``connectionParameters``
    (which Power Platform keeps only for clients that predate multi-auth), as in the portal.
    """
    props = properties.properties
    sets = props.connection_parameter_sets
    if props.parameter_set_names and sets is not None:
        forms = []
        for entry in sets.values or []:
            if not entry.name:
                continue
            ui = entry.ui_definition
            label = (ui.title if ui else None) or entry.name
            fields = _fields(entry.parameters or {})
            forms.append(ParameterSetForm(entry.name, label, ui.description if ui else None, fields))
        return tuple(forms)
    return (ParameterSetForm(None, "Connection", None, _fields(props.connection_parameters or {})),)


def _fields(parameters: Mapping[str, ConnectionParameter]) -> tuple[FormField, ...]:
    fields: list[FormField] = []
    for name, parameter in parameters.items():
        fields.extend(f for f in _field(name, parameter) if f.name == name or f.name not in parameters)
    # Stable sort: declared order among equal tab indexes, untabbed fields last.
    return tuple(sorted(fields, key=lambda f: f.tab_index if f.tab_index is not None else 1 << 30))


def _field(name: str, parameter: ConnectionParameter) -> list[FormField]:
    ui = parameter.ui_definition
    constraints = ui.constraints if ui else None
    kind = parameter.kind or "string"
    hidden = bool(constraints and constraints.is_hidden)
    allowed = tuple(
        (str(v.text if v.text is not None else v.value), str(v.value))
        for v in (constraints.allowed_values or [] if constraints else [])
        if v.value is not None
    )
    base = FormField(
        name=name,
        kind=kind,
        label=(ui.title if ui else None) or name,
        description=ui.description if ui else None,
        tooltip=ui.tooltip if ui else None,
        required=parameter.is_required and not hidden and kind != "oauthSetting",
        secret=parameter.is_secret,
        hidden=hidden,
        tab_index=_int(constraints.tab_index) if constraints else None,
        allowed_values=allowed,
        default=parameter.default_value,
    )
    if kind != "oauthSetting":
        return [base]
    settings = parameter.oauth_settings()
    provider = settings.identity_provider if settings else None
    fields = [_replace(base, identity_provider=provider)]
    if settings is None or not settings.client_id:
        fields.append(
            FormField(
                name=name + CLIENT_ID_SUFFIX,
                kind="string",
                label="OAuth client id",
                description="The client id of your OAuth app (the connector does not name one).",
                required=True,
                tab_index=base.tab_index,
            )
        )
    if settings is None or not settings.client_secret:
        fields.append(
            FormField(
                name=name + CLIENT_SECRET_SUFFIX,
                kind="securestring",
                label="OAuth client secret",
                description="Your OAuth app's client secret, if it has one (public PKCE clients do not).",
                secret=True,
                tab_index=base.tab_index,
            )
        )
    return fields


def _replace(field: FormField, **changes: Any) -> FormField:
    values = {name: getattr(field, name) for name in FormField.__slots__}
    return FormField(**{**values, **changes})


def _int(value: Any) -> int | None:
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def check_values(form: ParameterSetForm, values: Mapping[str, Any]) -> dict[str, Any]:
    """The values converted to their field types, with defaults filled in.

    Raises one :class:`ValidationFailed` listing every bad field (unknown, missing, wrong type,
    not an allowed value). Messages name fields, never echo values: a value may be a secret.
    """
    issues: list[dict[str, str]] = []
    result: dict[str, Any] = {}
    for name in values:
        field = form.field(name)
        if field is None or not field.fillable:
            known = ", ".join(f.name for f in form.fields if f.fillable) or "none"
            issues.append({"field": name, "message": f"unknown parameter (this form takes: {known})"})
    for field in form.fields:
        if not field.fillable:
            continue
        raw = values.get(field.name)
        if raw is None or raw == "":
            if field.default is not None:
                result[field.name] = field.default
            elif field.required:
                issues.append({"field": field.name, "message": f"'{field.label}' is required"})
            continue
        converted, problem = _convert(field, raw)
        if problem:
            issues.append({"field": field.name, "message": problem})
            continue
        if field.allowed_values and str(converted) not in {value for _text, value in field.allowed_values}:
            choices = ", ".join(value for _text, value in field.allowed_values)
            issues.append({"field": field.name, "message": f"not an allowed value; choose one of: {choices}"})
            continue
        result[field.name] = converted
    if issues:
        lines = "; ".join(f"{i['field']}: {i['message']}" for i in issues)
        raise ValidationFailed(f"The connection parameters are not valid: {lines}", issues=issues)
    return result


def _convert(field: FormField, raw: Any) -> tuple[Any, str | None]:
    if field.kind == "int":
        if isinstance(raw, bool):
            return None, "must be a whole number"
        if isinstance(raw, int):
            return raw, None
        try:
            return int(str(raw).strip()), None
        except ValueError:
            return None, "must be a whole number"
    if field.kind == "bool":
        if isinstance(raw, bool):
            return raw, None
        text = str(raw).strip().lower()
        if text in _TRUE or text in _FALSE:
            return text in _TRUE, None
        return None, "must be true or false"
    if not isinstance(raw, str):
        return None, "must be text"
    return raw, None
