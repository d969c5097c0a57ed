"""The wizard's edits to a connector package: pure functions from files and form fields to files.

Each tab changes only what it owns and keeps every other key (and key order) of the documents,
so a revision's diff shows exactly what the user changed. The definition is written indented
(two spaces), which is also what the Swagger editor shows, so lint line numbers match it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from tether.definition import DEFINITION_FILE, PROPERTIES_FILE, SCRIPT_FILE
from tether.errors import InputError

__all__ = [
    "AUTH_TYPES",
    "VISIBILITIES",
    "General",
    "Operation",
    "Security",
    "apply_general",
    "apply_security",
    "definition_of",
    "dump",
    "edit_operation",
    "new_package",
    "operations_of",
    "properties_of",
    "read_general",
    "read_security",
    "set_script",
]

AUTH_TYPES = {
    "none": "No authentication",
    "apiKey": "API key",
    "basic": "Basic authentication",
    "oauth2": "OAuth 2.0",
}
VISIBILITIES = ("none", "advanced", "internal", "important")
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
_HOST = re.compile(r"^[A-Za-z0-9.-]+(:\d{1,5})?$")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_OPERATION_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
GLOBAL_REDIRECT_URL = "https://global.consent.azure-apim.net/redirect"


@dataclass(frozen=True)
class General:
    """The General tab: what Power Platform asks before anything else."""

    title: str
    description: str = ""
    scheme: str = "https"
    host: str = ""
    base_path: str = "/"
    color: str = "#007ee5"
    gateway: bool = False


@dataclass(frozen=True)
class Security:
    """The Security tab: one authentication type and its fields (labels as the connection form shows)."""

    kind: str = "none"
    key_label: str = "API Key"
    key_name: str = ""
    key_in: str = "header"
    username_label: str = "Username"
    password_label: str = "Password"
    provider: str = "oauth2"
    client_id: str = ""
    authorization_url: str = ""
    token_url: str = ""
    refresh_url: str = ""
    scopes: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Operation:
    """One operation as the Definition tab lists it."""

    kind: str  # action, trigger
    method: str
    path: str
    operation_id: str
    summary: str
    description: str
    visibility: str
    parameters: list[dict[str, Any]]
    pointer: str


def dump(value: Any) -> bytes:
    """JSON as the wizard stores it: two-space indent, key order kept, final newline."""
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode()


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _load(raw: bytes | None, name: str) -> dict[str, Any]:
    if raw is None:
        return {}
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise InputError(f"{name} is not valid JSON ({exc}); fix it in the Swagger editor first.") from exc
    if not isinstance(value, dict):
        raise InputError(f"{name} must hold a JSON object.")
    return value


def definition_of(files: dict[str, bytes]) -> dict[str, Any]:
    return _load(files.get(DEFINITION_FILE), DEFINITION_FILE)


def properties_of(files: dict[str, bytes]) -> dict[str, Any]:
    found = _load(files.get(PROPERTIES_FILE), PROPERTIES_FILE)
    if not isinstance(found.get("properties"), dict):
        found["properties"] = {}
    return found


def check_general(general: General) -> None:
    """Every mistake on the General tab at once, each saying how to fix it."""
    problems = []
    if not general.title.strip():
        problems.append("Give the connector a name (it is its title, e.g. 'Sentiment Analysis').")
    if len(general.title) > 100:
        problems.append("The connector name is at most 100 characters.")
    if general.scheme not in ("http", "https"):
        problems.append("The scheme is http or https.")
    if not _HOST.match(general.host):
        problems.append(
            "The host is a name or address with an optional port, e.g. api.contoso.com or 127.0.0.1:8080."
        )
    if not general.base_path.startswith("/"):
        problems.append("The base URL starts with '/', e.g. / or /v1.")
    if not _COLOR.match(general.color):
        problems.append("The icon background colour is #RRGGBB, e.g. #007ee5.")
    if problems:
        raise InputError(" ".join(problems))


def new_package(general: General) -> dict[str, bytes]:
    """A blank Swagger 2.0 connector with the General tab's fields."""
    check_general(general)
    definition: dict[str, Any] = {
        "swagger": "2.0",
        "info": {
            "title": general.title.strip(),
            "description": general.description.strip(),
            "version": "1.0",
        },
        "host": general.host,
        "basePath": general.base_path,
        "schemes": [general.scheme],
        "consumes": [],
        "produces": [],
        "paths": {},
        "definitions": {},
        "parameters": {},
        "responses": {},
        "securityDefinitions": {},
        "security": [],
        "tags": [],
    }
    properties = {
        "properties": {"connectionParameters": {}, "iconBrandColor": general.color, "capabilities": []}
    }
    files = {DEFINITION_FILE: dump(definition), PROPERTIES_FILE: dump(properties)}
    return apply_general(files, general)


def read_general(files: dict[str, bytes]) -> General:
    definition, properties = definition_of(files), properties_of(files)["properties"]
    info = _dict(definition.get("info"))
    schemes = definition.get("schemes") or ["https"]
    capabilities = properties.get("capabilities") or []
    return General(
        title=str(info.get("title") or ""),
        description=str(info.get("description") or ""),
        scheme=str(schemes[0]) if isinstance(schemes, list) and schemes else "https",
        host=str(definition.get("host") or ""),
        base_path=str(definition.get("basePath") or "/"),
        color=str(properties.get("iconBrandColor") or "#007ee5"),
        gateway="gateway" in capabilities if isinstance(capabilities, list) else False,
    )


def apply_general(files: dict[str, bytes], general: General) -> dict[str, bytes]:
    check_general(general)
    definition, properties = definition_of(files), properties_of(files)
    info = definition.setdefault("info", {})
    info["title"] = general.title.strip()
    info["description"] = general.description.strip()
    definition["host"] = general.host
    definition["basePath"] = general.base_path
    definition["schemes"] = [general.scheme]
    props = properties["properties"]
    props["iconBrandColor"] = general.color
    capabilities = [c for c in props.get("capabilities") or [] if c != "gateway"]
    props["capabilities"] = [*capabilities, "gateway"] if general.gateway else capabilities
    return {**files, DEFINITION_FILE: dump(definition), PROPERTIES_FILE: dump(properties)}


def read_security(files: dict[str, bytes]) -> Security:
    definition, props = definition_of(files), properties_of(files)["properties"]
    schemes = definition.get("securityDefinitions") or {}
    parameters = props.get("connectionParameters") or {}
    for name, scheme in schemes.items() if isinstance(schemes, dict) else ():
        if not isinstance(scheme, dict):
            continue
        kind = scheme.get("type")
        if kind == "apiKey":
            label = ((parameters.get(name) or {}).get("uiDefinition") or {}).get("displayName") or "API Key"
            return Security(
                kind="apiKey",
                key_label=label,
                key_name=scheme.get("name", ""),
                key_in=scheme.get("in", "header"),
            )
        if kind == "basic":
            user = ((parameters.get("username") or {}).get("uiDefinition") or {}).get(
                "displayName"
            ) or "Username"
            secret = ((parameters.get("password") or {}).get("uiDefinition") or {}).get(
                "displayName"
            ) or "Password"
            return Security(kind="basic", username_label=user, password_label=secret)
        if kind == "oauth2":
            settings = next(
                (
                    p.get("oAuthSettings") or {}
                    for p in parameters.values()
                    if isinstance(p, dict) and p.get("type") == "oauthSetting"
                ),
                {},
            )
            custom = settings.get("customParameters") or {}
            return Security(
                kind="oauth2",
                provider=str(settings.get("identityProvider") or "oauth2"),
                client_id=str(settings.get("clientId") or ""),
                authorization_url=str(
                    (custom.get("authorizationUrl") or {}).get("value")
                    or scheme.get("authorizationUrl")
                    or ""
                ),
                token_url=str((custom.get("tokenUrl") or {}).get("value") or scheme.get("tokenUrl") or ""),
                refresh_url=str((custom.get("refreshUrl") or {}).get("value") or ""),
                scopes=tuple(settings.get("scopes") or ()),
            )
    return Security()


def _ui(display: str, description: str, *, secure: bool) -> dict[str, Any]:
    return {
        "displayName": display,
        "description": description,
        "tooltip": f"Provide your {display.lower()}",
        "constraints": {"tabIndex": 2, "clearText": not secure, "required": "true"},
    }


def apply_security(files: dict[str, bytes], security: Security) -> dict[str, bytes]:
    """Replace the connector's authentication with ``security`` (its schemes and connection parameters)."""
    definition, properties = definition_of(files), properties_of(files)
    props = properties["properties"]
    kind = security.kind
    if kind not in AUTH_TYPES:
        raise InputError(f"Unknown authentication type {kind!r}: choose one of {', '.join(AUTH_TYPES)}.")
    schemes: dict[str, Any] = {}
    parameters: dict[str, Any] = {}
    if kind == "apiKey":
        if not security.key_name.strip():
            raise InputError("An API key needs the name of the header or query parameter that carries it.")
        if security.key_in not in ("header", "query"):
            raise InputError("An API key travels in a header or in the query.")
        schemes["api_key"] = {"type": "apiKey", "in": security.key_in, "name": security.key_name.strip()}
        label = security.key_label.strip() or "API Key"
        parameters["api_key"] = {
            "type": "securestring",
            "uiDefinition": _ui(label, f"The {label} of the API", secure=True),
        }
    elif kind == "basic":
        schemes["basic_auth"] = {"type": "basic"}
        parameters["username"] = {
            "type": "securestring",
            "uiDefinition": _ui(security.username_label or "Username", "The user name", secure=False),
        }
        parameters["password"] = {
            "type": "securestring",
            "uiDefinition": _ui(security.password_label or "Password", "The password", secure=True),
        }
    elif kind == "oauth2":
        generic = security.provider in ("oauth2", "oauth2generic")
        if generic and not (security.authorization_url and security.token_url):
            raise InputError(
                "Generic OAuth 2.0 needs the authorization URL and the token URL of the provider."
            )
        schemes["oauth2_auth"] = {
            "type": "oauth2",
            "flow": "accessCode",
            "authorizationUrl": security.authorization_url or "https://login.example.com/authorize",
            "tokenUrl": security.token_url or "https://login.example.com/token",
            "scopes": {scope: scope for scope in security.scopes},
        }
        previous = next(
            (
                p.get("oAuthSettings") or {}
                for p in (props.get("connectionParameters") or {}).values()
                if isinstance(p, dict) and p.get("type") == "oauthSetting"
            ),
            {},
        )
        custom = (
            {
                "authorizationUrl": {"value": security.authorization_url},
                "tokenUrl": {"value": security.token_url},
                "refreshUrl": {"value": security.refresh_url or security.token_url},
            }
            if generic
            else {}
        )
        parameters["token"] = {
            "type": "oauthSetting",
            "oAuthSettings": {
                "identityProvider": security.provider,
                "clientId": security.client_id.strip() or "[[Please add the clientId here]]",
                "scopes": list(security.scopes),
                "redirectMode": previous.get("redirectMode", "GlobalPerConnector"),
                "redirectUrl": previous.get("redirectUrl", GLOBAL_REDIRECT_URL),
                "properties": {"IsFirstParty": "False"},
                "customParameters": custom,
                **({"clientSecret": previous["clientSecret"]} if "clientSecret" in previous else {}),
            },
            "uiDefinition": _ui("Login with your credentials", "Sign in with the provider", secure=True),
        }
    definition["securityDefinitions"] = schemes
    definition["security"] = [{name: []} for name in schemes]
    props["connectionParameters"] = parameters
    return {**files, DEFINITION_FILE: dump(definition), PROPERTIES_FILE: dump(properties)}


def _pointer_part(text: str) -> str:
    return text.replace("~", "~0").replace("/", "~1")


def operations_of(files: dict[str, bytes]) -> list[Operation]:
    """Actions and triggers (``x-ms-trigger``) in document order."""
    definition = definition_of(files)
    found = []
    for path, item in _dict(definition.get("paths")).items():
        if not isinstance(item, dict):
            continue
        shared = _list(item.get("parameters"))
        for method in _METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            own = _list(op.get("parameters"))
            found.append(
                Operation(
                    kind="trigger" if op.get("x-ms-trigger") else "action",
                    method=method.upper(),
                    path=str(path),
                    operation_id=str(op.get("operationId") or ""),
                    summary=str(op.get("summary") or ""),
                    description=str(op.get("description") or ""),
                    visibility=str(op.get("x-ms-visibility") or "none"),
                    parameters=[p for p in [*shared, *own] if isinstance(p, dict)],
                    pointer=f"/paths/{_pointer_part(str(path))}/{method}",
                )
            )
    return found


def edit_operation(
    files: dict[str, bytes],
    operation_id: str,
    *,
    new_id: str,
    summary: str,
    description: str,
    visibility: str,
) -> dict[str, bytes]:
    """Change one operation's identity fields; everything else in the document stays as it was."""
    if not _OPERATION_ID.match(new_id):
        raise InputError("The operation ID starts with a letter and holds letters, digits and '_' only.")
    if visibility not in VISIBILITIES:
        raise InputError(f"Visibility is one of {', '.join(VISIBILITIES)}.")
    definition = definition_of(files)
    target = None
    for item in (definition.get("paths") or {}).values():
        for method in _METHODS:
            op = item.get(method) if isinstance(item, dict) else None
            if isinstance(op, dict) and op.get("operationId") == operation_id:
                target = op
            elif isinstance(op, dict) and new_id != operation_id and op.get("operationId") == new_id:
                raise InputError(f"Another operation already has the ID {new_id!r}.")
    if target is None:
        raise InputError(f"The connector has no operation {operation_id!r}.")
    _set(target, "operationId", new_id)
    _set(target, "summary", summary.strip())
    _set(target, "description", description.strip())
    if visibility == "none":
        target.pop("x-ms-visibility", None)
    else:
        target["x-ms-visibility"] = visibility
    return {**files, DEFINITION_FILE: dump(definition)}


def _set(target: dict[str, Any], key: str, value: str) -> None:
    """Set ``key`` where it is (its place in the key order kept); drop it when emptied."""
    if value:
        target[key] = value
    else:
        target.pop(key, None)


def set_script(files: dict[str, bytes], code: str, operations: list[str]) -> dict[str, bytes]:
    """Store ``script.py`` and the operations it applies to (``scriptOperations``); empty code removes it."""
    properties = properties_of(files)
    props = properties["properties"]
    result = dict(files)
    if code.strip():
        result[SCRIPT_FILE] = code.replace("\r\n", "\n").encode()
        props["scriptOperations"] = operations
    else:
        result.pop(SCRIPT_FILE, None)
        props.pop("scriptOperations", None)
    result[PROPERTIES_FILE] = dump(properties)
    return result
