"""apiProperties.json: brand colour, connection parameters, OAuth settings, parameter sets.

These are the shapes Tether's auth layer and the connection dialog read (REFERENCE.md §1).
Rules work on the raw JSON rather than the pydantic models so that a malformed file still
gets every finding at once, each with a pointer.
"""

from __future__ import annotations

import re
from typing import Any

from tether.definition._document import escape_pointer
from tether.definition._placeholders import is_placeholder_client_id
from tether.definition.lint._context import LintContext
from tether.definition.lint._registry import check, define_rule

__all__: list[str] = []

NOT_AN_OBJECT = define_rule(
    "properties/invalid-root", "error", "apiProperties.json must be an object with a `properties` object."
)
BRAND_COLOR_MISSING = define_rule(
    "properties/missing-brand-color",
    "error",
    "`iconBrandColor` is required (Power Platform rejects the import).",
)
BRAND_COLOR_INVALID = define_rule(
    "properties/invalid-brand-color", "error", "`iconBrandColor` must be a `#rrggbb` colour."
)
PARAMETER_TYPE = define_rule(
    "properties/unknown-parameter-type",
    "warning",
    "A connection parameter's `type` is not string, securestring, int, bool, gatewaySetting or oauthSetting.",
    certification_severity="error",
)
PARAMETER_SHAPE = define_rule(
    "properties/invalid-connection-parameter",
    "error",
    "A connection parameter is not an object with a `type`.",
)
CONSTRAINTS = define_rule(
    "properties/invalid-constraints",
    "warning",
    '`uiDefinition.constraints` values have the wrong type (e.g. `required` must be "true"/"false").',
    certification_severity="error",
)
OAUTH_SETTINGS = define_rule(
    "properties/invalid-oauth-settings",
    "error",
    "An `oauthSetting` parameter needs `oAuthSettings` with an `identityProvider`.",
)
OAUTH_CLIENT_PLACEHOLDER = define_rule(
    "properties/placeholder-client-id",
    "warning",
    "An OAuth parameter's `clientId` is empty or a placeholder such as `<Enter Your Client ID>`.",
)
REDIRECT_MODE = define_rule(
    "properties/invalid-redirect-mode",
    "error",
    "`redirectMode` must be Global, GlobalPerConnector or Direct.",
)
PARAMETER_SETS = define_rule(
    "properties/invalid-parameter-sets",
    "error",
    "`connectionParameterSets` must be `{uiDefinition, values: [{name, uiDefinition, parameters}]}`.",
)
SCRIPT_OPERATIONS = define_rule(
    "properties/unknown-script-operation",
    "warning",
    "`scriptOperations` names an operationId the definition lacks, so the script never runs for it.",
    certification_severity="error",
)

_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
PARAMETER_TYPES = ("string", "securestring", "int", "bool", "gatewaySetting", "oauthSetting")
REDIRECT_MODES = ("global", "globalperconnector", "direct")
_CONSTRAINT_TYPES: dict[str, tuple[type, ...]] = {
    "required": (str, bool),
    "hidden": (str, bool),
    "clearText": (bool, str),
    "tabIndex": (int,),
    "allowedValues": (list,),
    "capability": (list,),
    "dependencies": (dict,),
}


@check()
def check_properties_root(ctx: LintContext) -> None:
    document = ctx.properties
    if document is None:
        return
    data = document.data
    if not isinstance(data, dict) or not isinstance(data.get("properties"), dict):
        ctx.report(
            NOT_AN_OBJECT,
            "",
            'apiProperties.json must look like `{"properties": {"iconBrandColor": "#da3b01", ...}}`',
            document=document,
        )
        return
    props = data["properties"]
    color = props.get("iconBrandColor")
    if color is None:
        ctx.report(
            BRAND_COLOR_MISSING,
            "/properties",
            "iconBrandColor is missing; add e.g. "
            '`"iconBrandColor": "#da3b01"` (the icon\'s background colour)',
            document=document,
        )
    elif not isinstance(color, str) or not _COLOR.fullmatch(color.strip()):
        ctx.report(
            BRAND_COLOR_INVALID,
            "/properties/iconBrandColor",
            f'iconBrandColor is {color!r}; write a hex colour like "#da3b01"',
            document=document,
        )


@check()
def check_connection_parameters(ctx: LintContext) -> None:
    document = ctx.properties
    params = ctx.properties_root.get("connectionParameters")
    if document is None or not isinstance(params, dict):
        return
    for name, param in params.items():
        _check_parameter(ctx, f"/properties/connectionParameters/{escape_pointer(name)}", name, param)


def _check_parameter(ctx: LintContext, pointer: str, name: str, param: Any) -> None:
    document = ctx.properties
    if not isinstance(param, dict) or not isinstance(param.get("type"), str):
        ctx.report(
            PARAMETER_SHAPE,
            pointer,
            f"connection parameter {name!r} must be an object with a `type` ({', '.join(PARAMETER_TYPES)})",
            document=document,
        )
        return
    kind = param["type"]
    if kind not in PARAMETER_TYPES:
        near = [t for t in PARAMETER_TYPES if t.lower() == kind.lower()]
        hint = (
            f"write {near[0]!r} (types are case-sensitive)"
            if near
            else f"use one of {', '.join(PARAMETER_TYPES)}"
        )
        ctx.report(
            PARAMETER_TYPE,
            f"{pointer}/type",
            f"connection parameter {name!r} has type {kind!r}; {hint}",
            document=document,
        )
    ui = param.get("uiDefinition")
    constraints = ui.get("constraints") if isinstance(ui, dict) else None
    if isinstance(constraints, dict):
        for key, expected in _CONSTRAINT_TYPES.items():
            value = constraints.get(key)
            if value is None:
                continue
            bad_type = not isinstance(value, expected) or (key == "tabIndex" and isinstance(value, bool))
            bad_text = (
                isinstance(value, str)
                and key in ("required", "hidden", "clearText")
                and value.strip().lower() not in ("true", "false")
            )
            if bad_type or bad_text:
                ctx.report(
                    CONSTRAINTS,
                    f"{pointer}/uiDefinition/constraints/{key}",
                    f"constraint {key!r} of connection parameter {name!r} is {value!r}; "
                    f"{_constraint_hint(key)}",
                    document=document,
                )
    elif constraints is not None:
        ctx.report(
            CONSTRAINTS,
            f"{pointer}/uiDefinition/constraints",
            f"uiDefinition.constraints of {name!r} must be an object",
            document=document,
        )
    if kind.lower() == "oauthsetting":
        _check_oauth(ctx, pointer, name, param.get("oAuthSettings"))


def _constraint_hint(key: str) -> str:
    if key in ("required", "hidden"):
        return 'write "true" or "false"'
    if key == "clearText":
        return "write true or false"
    if key == "tabIndex":
        return "write a whole number"
    return "see REFERENCE.md §1 for the expected shape"


def _check_oauth(ctx: LintContext, pointer: str, name: str, settings: Any) -> None:
    document = ctx.properties
    where = f"{pointer}/oAuthSettings"
    if (
        not isinstance(settings, dict)
        or not isinstance(settings.get("identityProvider"), str)
        or not settings["identityProvider"]
    ):
        ctx.report(
            OAUTH_SETTINGS,
            where if isinstance(settings, dict) else pointer,
            f"OAuth parameter {name!r} needs `oAuthSettings` with an `identityProvider` (e.g. "
            '"oauth2", "aad", "oauth2generic"), `clientId` and `scopes`',
            document=document,
        )
        return
    if is_placeholder_client_id(settings.get("clientId")):
        ctx.report(
            OAUTH_CLIENT_PLACEHOLDER,
            f"{where}/clientId",
            f"OAuth parameter {name!r} has the client id {settings.get('clientId')!r}, a placeholder: set "
            "your OAuth app with `tether connector create/update --client-id ID --client-secret SECRET`",
            document=document,
        )
    mode = settings.get("redirectMode")
    if mode is not None and (not isinstance(mode, str) or mode.strip().lower() not in REDIRECT_MODES):
        ctx.report(
            REDIRECT_MODE,
            f"{where}/redirectMode",
            f'redirectMode is {mode!r}; use "GlobalPerConnector" (recommended), "Global" or "Direct"',
            document=document,
        )


@check()
def check_parameter_sets(ctx: LintContext) -> None:
    sets = ctx.properties_root.get("connectionParameterSets")
    if sets is None:
        return
    document = ctx.properties
    base = "/properties/connectionParameterSets"
    values = sets.get("values") if isinstance(sets, dict) else None
    if not isinstance(values, list) or not values:
        ctx.report(
            PARAMETER_SETS,
            base,
            "connectionParameterSets needs a non-empty `values` list, one entry per way to sign in",
            document=document,
        )
        return
    for index, entry in enumerate(values):
        where = f"{base}/values/{index}"
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            ctx.report(
                PARAMETER_SETS,
                where,
                "each parameter set needs a `name`, a `uiDefinition` and `parameters`",
                document=document,
            )
            continue
        params = entry.get("parameters")
        if not isinstance(params, dict):
            ctx.report(
                PARAMETER_SETS,
                where,
                f"parameter set {entry['name']!r} needs a `parameters` object",
                document=document,
            )
            continue
        for name, param in params.items():
            _check_parameter(ctx, f"{where}/parameters/{escape_pointer(name)}", name, param)


@check()
def check_script_operations(ctx: LintContext) -> None:
    operations = ctx.properties_root.get("scriptOperations")
    if not isinstance(operations, list) or not ctx.spec.operations:
        return
    known = ctx.spec.operation_ids
    for index, name in enumerate(operations):
        if not isinstance(name, str) or name not in known:
            ctx.report(
                SCRIPT_OPERATIONS,
                f"/properties/scriptOperations/{index}",
                f"scriptOperations lists {name!r}, which is not an operationId in the definition; fix "
                "the name or remove it",
                document=ctx.properties,
            )
