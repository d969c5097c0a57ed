"""apiProperties.json connection parameters from an OpenAPI document's security schemes.

The shapes are the ones Microsoft's portal writes and the corpus uses: an API key is a
``securestring`` parameter, Basic is ``username`` + ``password``, OAuth 2.0 is an
``oauthSetting`` parameter named ``token`` with ``identityProvider: oauth2`` and its URLs
under ``customParameters``. Several schemes become ``connectionParameterSets`` (multi-auth),
one set per scheme, so a user picks one when connecting.
"""

from __future__ import annotations

from typing import Any

from tether.definition import escape_pointer

__all__ = ["connection_parameters", "security_schemes"]

REDIRECT_MODE = "GlobalPerConnector"
_Report = list[tuple[str, str, str]]


def security_schemes(data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The pointer of the document's security schemes and the schemes (Swagger 2.0 or 3.x)."""
    if "swagger" in data:
        found = data.get("securityDefinitions")
        return "/securityDefinitions", found if isinstance(found, dict) else {}
    components = data.get("components")
    found = components.get("securitySchemes") if isinstance(components, dict) else None
    return "/components/securitySchemes", found if isinstance(found, dict) else {}


def connection_parameters(data: dict[str, Any], report: _Report) -> dict[str, Any]:
    """``connectionParameters`` or ``connectionParameterSets`` for ``properties``.

    ``report`` receives (kind, pointer, message) for what has no Power Platform shape.
    """
    base, schemes = security_schemes(data)
    converted: list[tuple[str, dict[str, Any]]] = []
    for name, scheme in schemes.items():
        where = f"{base}/{escape_pointer(name)}"
        if not isinstance(scheme, dict):
            report.append(("warning", where, "security scheme is not an object; ignored"))
            continue
        parameters = _scheme_parameters(name, scheme, where, report)
        if parameters:
            converted.append((name, parameters))
    if not converted:
        return {}
    if len(converted) == 1:
        return {"connectionParameters": converted[0][1]}
    values = [
        {
            "name": _set_name(name),
            "uiDefinition": {"displayName": name, "description": f"Authenticate with {name}"},
            "parameters": parameters,
        }
        for name, parameters in converted
    ]
    report.append(
        ("info", base, f"{len(values)} security schemes became connectionParameterSets (multi-auth)")
    )
    return {
        "connectionParameterSets": {
            "uiDefinition": {"displayName": "Authentication type", "description": "Type of authentication"},
            "values": values,
        }
    }


def _scheme_parameters(name: str, scheme: dict[str, Any], where: str, report: _Report) -> dict[str, Any]:
    kind = scheme.get("type")
    description = scheme.get("description") if isinstance(scheme.get("description"), str) else None
    if kind == "apiKey":
        location = scheme.get("in")
        if location == "cookie":
            report.append(("unsupported", where, "API keys sent in a cookie have no connection parameter"))
            return {}
        label = scheme.get("name") if isinstance(scheme.get("name"), str) else name
        return {"api_key": _secure(f"API Key ({label})", description or f"The {label} API key")}
    if kind == "basic" or (kind == "http" and str(scheme.get("scheme", "")).lower() == "basic"):
        return {
            "username": _secure("Username", "The username for this API", clear=True),
            "password": _secure("Password", "The password for this API"),
        }
    if kind == "http" and str(scheme.get("scheme", "")).lower() == "bearer":
        # ``api_key``: the name 528 of the corpus's 550 API-key connectors use; sent as Bearer.
        return {"api_key": _secure("Bearer token", description or "The bearer token for this API")}
    if kind == "http":
        report.append(("unsupported", where, f"HTTP authentication scheme {scheme.get('scheme')!r}"))
        return {}
    if kind == "oauth2":
        return _oauth2(scheme, where, report)
    if kind == "openIdConnect":
        url = scheme.get("openIdConnectUrl")
        report.append(
            (
                "approximation",
                where,
                f"OpenID Connect became OAuth 2.0; read the authorization and token URLs from the "
                f"discovery document {url} and set them in apiProperties.json",
            )
        )
        return {"token": _oauth_parameter([], {"authorizationUrl": "", "tokenUrl": "", "refreshUrl": ""})}
    report.append(("unsupported", where, f"security scheme type {kind!r} has no connection parameter"))
    return {}


def _oauth2(scheme: dict[str, Any], where: str, report: _Report) -> dict[str, Any]:
    flows = _flows(scheme)
    chosen = None
    for flow_name in ("authorizationCode", "clientCredentials"):
        if flow_name in flows:
            chosen = flow_name
            break
    for flow_name in flows:
        if flow_name != chosen:
            report.append(
                (
                    "unsupported",
                    f"{where}/flows/{flow_name}" if "flows" in scheme else where,
                    f"OAuth 2.0 {flow_name} flow is not supported (Power Platform and Tether use the "
                    "authorization code or client credentials flow)",
                )
            )
    if chosen is None:
        return {}
    flow = flows[chosen]
    if chosen == "clientCredentials":
        report.append(
            (
                "info",
                where,
                "client credentials grant: Power Platform has none (it would reject this connector) but "
                "Tether supports it",
            )
        )
    scopes = flow.get("scopes")
    token_url = flow.get("tokenUrl") or ""
    urls = {
        "authorizationUrl": flow.get("authorizationUrl") or "",
        "tokenUrl": token_url,
        "refreshUrl": flow.get("refreshUrl") or token_url,
    }
    parameter = _oauth_parameter(list(scopes) if isinstance(scopes, dict) else [], urls)
    if chosen == "clientCredentials":
        parameter["oAuthSettings"]["properties"]["grantType"] = "client_credentials"
    return {"token": parameter}


def _flows(scheme: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """OAuth flows by their OpenAPI 3 names; Swagger 2.0's single ``flow`` is mapped onto them."""
    flows = scheme.get("flows")
    if isinstance(flows, dict):
        return {k: v for k, v in flows.items() if isinstance(v, dict)}
    names = {"accessCode": "authorizationCode", "application": "clientCredentials"}
    flow = scheme.get("flow")
    if isinstance(flow, str):
        return {names.get(flow, flow): scheme}
    return {}


def _oauth_parameter(scopes: list[str], urls: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "oauthSetting",
        "oAuthSettings": {
            "identityProvider": "oauth2",
            "clientId": "[[Please add the clientId here]]",
            "scopes": scopes,
            "redirectMode": REDIRECT_MODE,
            "redirectUrl": "https://global.consent.azure-apim.net/redirect",
            "properties": {"IsFirstParty": "False"},
            "customParameters": {key: {"value": value} for key, value in urls.items()},
        },
        "uiDefinition": {
            "displayName": "Login with your credentials",
            "description": "Login with your credentials",
            "tooltip": "Provide your credentials",
            "constraints": {"required": "true"},
        },
    }


def _secure(display: str, description: str, *, clear: bool = False) -> dict[str, Any]:
    return {
        "type": "securestring",
        "uiDefinition": {
            "displayName": display,
            "description": description,
            "tooltip": f"Provide your {display.lower()}",
            "constraints": {"tabIndex": 2, "clearText": clear, "required": "true"},
        },
    }


def _set_name(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name) or "auth"
