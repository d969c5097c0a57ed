"""Typed models of ``apiProperties.json``: connection parameters, OAuth settings, policies.

``apiProperties.json`` is Power Platform's second connector file; Tether reads it with
pydantic so every layer gets typed access (``props.connection_parameters["api_key"]``)
instead of chains of ``.get()``. Two promises shape the models:

* **Round trip.** Every unknown key is kept (``extra="allow"``) and scalar fields accept
  exactly the JSON types the corpus uses, without coercion, so
  ``model_dump(by_alias=True, exclude_unset=True)`` gives back the input: a connector
  exported from Tether is the connector that was imported.
* **Leniency where the corpus is lenient.** ``required: "true"`` and ``required: true``
  both occur, ``scopes`` may be missing, ``redirectMode`` is sometimes lower-case, one
  connector spells the key ``oauthSettings``. Helpers (``is_required``,
  ``oauth_settings()``, the normalised ``redirect_mode``) hide those differences.

Invalid input becomes a ``ValidationFailed`` listing every bad field by JSON pointer.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    field_serializer,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from tether.definition._document import escape_pointer
from tether.errors import InputError, ValidationFailed

__all__ = [
    "REDIRECT_MODES",
    "AllowedValue",
    "ApiProperties",
    "ConnectionParameter",
    "ConnectionParameterSet",
    "ConnectionParameterSets",
    "ConnectorProperties",
    "OAuthSettings",
    "PolicyTemplateInstance",
    "UiConstraints",
    "UiDefinition",
    "parse_api_properties",
]

REDIRECT_MODES: Final = ("Global", "GlobalPerConnector", "Direct")
_REDIRECT_MODES_BY_LOWER = {mode.lower(): mode for mode in REDIRECT_MODES}
# Canonical spellings of connection parameter types (the corpus also has "oAuthSetting").
_PARAMETER_TYPES = {
    t.lower(): t for t in ("string", "securestring", "int", "bool", "gatewaySetting", "oauthSetting")
}

StrOrBool = StrictStr | StrictBool


class _Model(BaseModel):
    """Shared configuration: camelCase aliases, Python names accepted too, unknown keys kept."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, alias_generator=to_camel)


def _truthy(value: Any) -> bool:
    # Connector files write booleans as "true"/"false" strings as often as JSON booleans.
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


class AllowedValue(_Model):
    """One choice of a drop-down connection parameter: ``text`` shown, ``value`` stored."""

    text: StrictStr | None = None
    value: Any = None


class UiConstraints(_Model):
    """How the portal asks for a connection parameter: required, hidden, choices, tab order."""

    required: StrOrBool | None = None
    clear_text: StrOrBool | None = None
    tab_index: StrictInt | StrictStr | None = None
    hidden: StrOrBool | None = None
    allowed_values: list[AllowedValue] | None = None
    capability: list[StrictStr] | None = None
    dependencies: dict[str, Any] | None = None

    @property
    def is_required(self) -> bool:
        """``required`` as a boolean, whichever way it was written."""
        return _truthy(self.required)

    @property
    def is_hidden(self) -> bool:
        """``hidden`` as a boolean, whichever way it was written."""
        return _truthy(self.hidden)


class UiDefinition(_Model):
    """Labels and constraints for a parameter or a parameter set."""

    display_name: StrictStr | None = None
    description: StrictStr | None = None
    tooltip: StrictStr | None = None
    constraints: UiConstraints | None = None

    @property
    def title(self) -> str | None:
        """The display name, also when written ``displayname`` (three corpus connectors do)."""
        extra = (self.model_extra or {}).get("displayname")
        return self.display_name or (extra if isinstance(extra, str) else None)


class OAuthSettings(_Model):
    """``oAuthSettings`` of an ``oauthSetting`` parameter.

    ``redirect_mode`` is normalised to one of ``REDIRECT_MODES`` when it is a known value
    in any case (``global`` ⇒ ``Global``); the original spelling is written back on dump
    unless the mode was changed. ``client_secret`` is kept out of ``repr``.
    """

    identity_provider: StrictStr | None = None
    client_id: StrictStr | None = None
    client_secret: StrictStr | None = Field(default=None, repr=False)
    scopes: list[StrictStr] | StrictStr | None = None
    redirect_mode: StrictStr | None = None
    redirect_url: StrictStr | list[StrictStr] | None = None
    properties: dict[str, Any] | None = None
    custom_parameters: dict[str, Any] | None = None
    _redirect_mode_spelling: str | None = None

    @model_validator(mode="wrap")
    @classmethod
    def _remember_spelling(
        cls, data: Any, handler: ModelWrapValidatorHandler[OAuthSettings]
    ) -> OAuthSettings:
        model = handler(data)
        if isinstance(data, dict):
            spelling = data.get("redirectMode", data.get("redirect_mode"))
            model._redirect_mode_spelling = spelling if isinstance(spelling, str) else None
        return model

    @field_validator("redirect_mode")
    @classmethod
    def _normalise_redirect_mode(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return _REDIRECT_MODES_BY_LOWER.get(value.strip().lower(), value)

    @field_serializer("redirect_mode")
    def _dump_redirect_mode(self, value: str | None) -> str | None:
        spelling = self._redirect_mode_spelling
        if spelling is not None and _REDIRECT_MODES_BY_LOWER.get(spelling.strip().lower(), spelling) == value:
            return spelling
        return value

    @property
    def scope_list(self) -> list[str]:
        """Scopes as a list (a single string is split on spaces, as OAuth servers read it)."""
        if isinstance(self.scopes, str):
            return self.scopes.split()
        return list(self.scopes or [])

    def custom_parameter(self, name: str) -> Any:
        """The ``value`` of custom parameter ``name`` (``None`` when absent or empty)."""
        entry = (self.custom_parameters or {}).get(name)
        return entry.get("value") if isinstance(entry, dict) else entry


class ConnectionParameter(_Model):
    """One value a user supplies when creating a connection (API key, host, OAuth...)."""

    type: StrictStr | None = None
    ui_definition: UiDefinition | None = None
    o_auth_settings: OAuthSettings | None = None
    gateway_settings: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    default_value: Any = None

    @property
    def kind(self) -> str | None:
        """``type`` canonically spelled (``oAuthSetting`` ⇒ ``oauthSetting``), unknown ones as written."""
        return _PARAMETER_TYPES.get(self.type.lower(), self.type) if self.type else None

    @property
    def is_secret(self) -> bool:
        """Whether the value must be stored encrypted and never shown (``securestring``)."""
        return self.kind == "securestring"

    @property
    def is_required(self) -> bool:
        """Whether the portal requires it (``uiDefinition.constraints.required``)."""
        ui = self.ui_definition
        return bool(ui and ui.constraints and ui.constraints.is_required)

    def oauth_settings(self) -> OAuthSettings | None:
        """The OAuth settings, also when the key is spelled ``oauthSettings``."""
        if self.o_auth_settings is not None:
            return self.o_auth_settings
        other = (self.model_extra or {}).get("oauthSettings")
        return OAuthSettings.model_validate(other) if isinstance(other, dict) else None


class ConnectionParameterSet(_Model):
    """One way to connect in a multi-auth connector (``connectionParameterSets.values[]``)."""

    name: StrictStr | None = None
    ui_definition: UiDefinition | None = None
    parameters: dict[str, ConnectionParameter] | None = None
    metadata: dict[str, Any] | None = None


class ConnectionParameterSets(_Model):
    """Multi-auth: the user picks one ``values`` entry when creating a connection."""

    ui_definition: UiDefinition | None = None
    values: list[ConnectionParameterSet] | None = None


class PolicyTemplateInstance(_Model):
    """A request/response transformation; ``parameters`` keys are ``x-ms-apimTemplateParameter.*``."""

    template_id: StrictStr | None = None
    title: StrictStr | None = None
    parameters: dict[str, Any] | None = None


class ConnectorProperties(_Model):
    """The ``properties`` object of ``apiProperties.json``."""

    icon_brand_color: StrictStr | None = None
    capabilities: list[StrictStr] | None = None
    connection_parameters: dict[str, ConnectionParameter] | None = None
    connection_parameter_sets: ConnectionParameterSets | None = None
    policy_template_instances: list[PolicyTemplateInstance] | None = None
    script_operations: list[StrictStr] | None = None
    publisher: StrictStr | None = None
    stack_owner: StrictStr | None = None

    @property
    def parameter_set_names(self) -> list[str]:
        """Names of the multi-auth parameter sets (empty for single-auth connectors)."""
        sets = self.connection_parameter_sets
        return [s.name for s in (sets.values or []) if s.name] if sets else []

    def connection_parameters_for(self, set_name: str | None = None) -> dict[str, ConnectionParameter]:
        """The parameters a connection must supply: the top-level ones, or those of ``set_name``.

        Raises ``InputError`` naming the choices when ``set_name`` is unknown, or when it
        is missing although the connector only offers parameter sets.
        """
        names = self.parameter_set_names
        if set_name is None:
            if self.connection_parameters or not names:
                return dict(self.connection_parameters or {})
            raise InputError(
                f"this connector offers several ways to connect; choose one of: {', '.join(names)}",
                detail={"choices": names},
            )
        for entry in (self.connection_parameter_sets.values or []) if self.connection_parameter_sets else []:
            if entry.name == set_name:
                return dict(entry.parameters or {})
        choices = ", ".join(names) or "none (the connector has no parameter sets)"
        raise InputError(
            f"unknown connection parameter set '{set_name}'; choices: {choices}",
            detail={"set": set_name, "choices": names},
        )

    def iter_connection_parameters(self) -> Iterator[tuple[str | None, str, ConnectionParameter]]:
        """Every connection parameter as ``(set name or None, parameter name, parameter)``."""
        for key, param in (self.connection_parameters or {}).items():
            yield None, key, param
        sets = self.connection_parameter_sets
        for entry in (sets.values or []) if sets else []:
            for key, param in (entry.parameters or {}).items():
                yield entry.name, key, param

    def oauth_settings(self, set_name: str | None = None) -> OAuthSettings | None:
        """The OAuth settings of the connector (of ``set_name`` when given), or None.

        Without a set name the top-level parameters are searched first, then every set,
        so governance audits see OAuth connectors whichever way they are declared.
        """
        for found_set, _key, param in self.iter_connection_parameters():
            if set_name is not None and found_set != set_name:
                continue
            settings = param.oauth_settings()
            if settings is not None:
                return settings
        return None


class ApiProperties(_Model):
    """A whole ``apiProperties.json``; use ``parse_api_properties`` for good error messages."""

    properties: ConnectorProperties


def parse_api_properties(data: Any, *, name: str) -> ApiProperties:
    """Validate parsed ``apiProperties.json`` content.

    Raises ``ValidationFailed`` listing every bad field with its JSON pointer, e.g.
    ``/properties/connectionParameters/api_key/type: Input should be a valid string``.
    """
    try:
        return ApiProperties.model_validate(data)
    except ValidationError as exc:
        issues = _issues(exc, data)
    lines = "\n".join(f"  {i['pointer'] or '/'}: {i['message']}" for i in issues)
    raise ValidationFailed(
        f"{name}: apiProperties has {len(issues)} problem{'s' if len(issues) != 1 else ''}:\n{lines}",
        issues=[{**issue, "document": name} for issue in issues],
    )


def _issues(exc: ValidationError, data: Any) -> list[dict[str, str]]:
    """One issue per JSON pointer; union alternatives at the same place are joined."""
    by_pointer: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False):
        pointer = _pointer(error["loc"], data, missing=error["type"] == "missing")
        messages = by_pointer.setdefault(pointer, [])
        if error["msg"] not in messages:
            messages.append(error["msg"])
    return [{"pointer": p, "message": " or ".join(m)} for p, m in by_pointer.items()]


def _pointer(loc: tuple[int | str, ...], data: Any, *, missing: bool) -> str:
    """Follow ``loc`` through the input, dropping pydantic's union-member tags (``str``, ``bool``...)."""
    node, tokens = data, []
    for index, token in enumerate(loc):
        in_dict = isinstance(node, dict) and token in node
        in_list = isinstance(node, list) and isinstance(token, int) and 0 <= token < len(node)
        if in_dict or in_list:
            node = node[token]
        elif missing and index == len(loc) - 1:
            node = None
        else:
            continue
        tokens.append(escape_pointer(token))
    return "".join("/" + t for t in tokens)
