"""Policy templates (``policyTemplateInstances``): known ids, parameters, targets.

A policy Tether cannot build is an error: the connector would run without the header,
host or route it depends on. Template ids are matched case-insensitively because the
corpus writes ``SetProperty`` and ``setproperty`` alike (REFERENCE.md §3).
"""

from __future__ import annotations

import re
from typing import Any

from tether.definition.lint._context import LintContext
from tether.definition.lint._registry import check, define_rule

__all__ = ["POLICY_TEMPLATES"]

POLICY_SHAPE = define_rule(
    "policies/invalid-instance",
    "error",
    "A policy template instance is not an object with templateId and parameters.",
)
UNKNOWN_TEMPLATE = define_rule(
    "policies/unknown-template", "error", "`templateId` names a policy template Tether does not know."
)
MISSING_PARAMETER = define_rule(
    "policies/missing-parameter",
    "error",
    "A policy template instance lacks a parameter its template requires.",
)
UNKNOWN_OPERATION = define_rule(
    "policies/unknown-operation",
    "warning",
    "`x-ms-apimTemplate-operationName` names an operationId the definition lacks.",
    certification_severity="error",
)
POLICY_SECTION = define_rule(
    "policies/invalid-section",
    "error",
    "`x-ms-apimTemplate-policySection` must be Request, Response or Failure.",
)
UNKNOWN_CONNECTION_PARAMETER = define_rule(
    "policies/unknown-connection-parameter",
    "error",
    "A policy value uses `@connectionParameters('x')` but no connection parameter `x` exists.",
)

# templateId (lower case) -> parameters that must be present (without the x-ms-apimTemplateParameter. prefix).
POLICY_TEMPLATES: dict[str, tuple[str, ...]] = {
    "setheader": ("name", "value"),
    "setqueryparameter": ("name", "value"),
    "dynamichosturl": ("urlTemplate",),
    "dynamicsubdomain": ("urlTemplate",),
    "routerequesttoendpoint": ("newPath",),
    "setproperty": (
        "newPropertyParentPathTemplate",
        "newPropertySubPathTemplate",
        "propertyValuePathTemplate",
    ),
    "pollingtrigger": ("triggerConfig",),
    "stringreplace": ("propertyParentPath", "sourceString", "replacementString"),
    "convertobjecttoarray": ("propertyParentPath", "newPropertyPath"),
    "updatenextlink": ("nextLinkPropertyName",),
    "setvaluefromurl": ("parameterTemplate", "parameterValueUrl", "parameterValuePathTemplate"),
    "convertarraytoobject": ("propertyParentPath", "newPropertyPath"),
    "stringtoarray": ("propertyParentPath", "newPropertyPath"),
    "encodepropertyvalue": ("propertyParentPath",),
    "moveproperties": ("srcParentPath", "dstParentPath"),
    "setconnectionstatustounauthenticated": (),
}
_PREFIX = "x-ms-apimTemplateParameter."
_SECTIONS = ("request", "response", "failure")
_CONNECTION_PARAMETER = re.compile(r"connectionParameters\(\s*'([^']*)'")


@check()
def check_policy_instances(ctx: LintContext) -> None:
    instances = ctx.properties_root.get("policyTemplateInstances")
    if instances is None:
        return
    document = ctx.properties
    if not isinstance(instances, list):
        ctx.report(
            POLICY_SHAPE,
            "/properties/policyTemplateInstances",
            "policyTemplateInstances must be a list",
            document=document,
        )
        return
    connection_names = _connection_parameter_names(ctx.properties_root)
    for index, instance in enumerate(instances):
        where = f"/properties/policyTemplateInstances/{index}"
        template = instance.get("templateId") if isinstance(instance, dict) else None
        params = instance.get("parameters", {}) if isinstance(instance, dict) else None
        if not isinstance(template, str) or not isinstance(params, dict):
            ctx.report(
                POLICY_SHAPE,
                where,
                "a policy instance needs a `templateId` string and a `parameters` object",
                document=document,
            )
            continue
        required = POLICY_TEMPLATES.get(template.lower())
        if required is None:
            ctx.report(
                UNKNOWN_TEMPLATE,
                f"{where}/templateId",
                f"policy template {template!r} is unknown; use one of {', '.join(sorted(POLICY_TEMPLATES))}",
                document=document,
            )
        else:
            for name in required:
                if _PREFIX + name not in params:
                    ctx.report(
                        MISSING_PARAMETER,
                        f"{where}/parameters",
                        f'policy {template!r} needs parameter "{_PREFIX}{name}"; add it',
                        document=document,
                    )
        _check_targets(ctx, f"{where}/parameters", template, params)
        if connection_names is not None:
            for key, value in params.items():
                for used in _CONNECTION_PARAMETER.findall(_text(value)):
                    if used.lower() not in connection_names:  # the platform matches names case-insensitively
                        ctx.report(
                            UNKNOWN_CONNECTION_PARAMETER,
                            f"{where}/parameters/{key.replace('~', '~0')}",
                            f"policy {template!r} uses @connectionParameters('{used}') but no connection "
                            f"parameter {used!r} is declared; add it or fix the name",
                            document=document,
                        )


def _check_targets(ctx: LintContext, where: str, template: str, params: dict[str, Any]) -> None:
    document = ctx.properties
    section = params.get("x-ms-apimTemplate-policySection")
    if section is not None and (not isinstance(section, str) or section.strip().lower() not in _SECTIONS):
        ctx.report(
            POLICY_SECTION,
            f"{where}/x-ms-apimTemplate-policySection",
            f'policySection is {section!r}; use "Request", "Response" or "Failure"',
            document=document,
        )
    names = params.get("x-ms-apimTemplate-operationName")
    if names is None or not ctx.spec.operations:
        return
    listed = names if isinstance(names, list) else [names]
    known = ctx.spec.operation_ids
    for index, name in enumerate(listed):
        if not isinstance(name, str) or name not in known:
            pointer = f"{where}/x-ms-apimTemplate-operationName" + (
                f"/{index}" if isinstance(names, list) else ""
            )
            ctx.report(
                UNKNOWN_OPERATION,
                pointer,
                f"policy {template!r} targets operation {name!r}, which is not "
                "an operationId in the definition; the policy will never apply there",
                document=document,
            )


def _connection_parameter_names(props: dict[str, Any]) -> set[str] | None:
    """Names usable in ``@connectionParameters()``, or None when they cannot be known."""
    names: set[str] = set()
    params = props.get("connectionParameters")
    if isinstance(params, dict):
        names.update(str(n).lower() for n in params)
    sets = props.get("connectionParameterSets")
    values = sets.get("values") if isinstance(sets, dict) else None
    for entry in values if isinstance(values, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("parameters"), dict):
            names.update(str(n).lower() for n in entry["parameters"])
    return names if names or isinstance(params, dict) else None


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        return str(value)
    return ""
