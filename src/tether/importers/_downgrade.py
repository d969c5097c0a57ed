"""An OpenAPI 3.x document rewritten as Swagger 2.0, the only format Power Platform imports.

Top-level structure, paths, operations, request bodies, responses and security schemes are
handled here; schemas and parameters in ``_downgrade_schema``. Everything that cannot be
carried over exactly is reported (``approximation`` or ``unsupported``) with the pointer of
the source value, so an empty loss report means nothing was lost.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from tether.definition import escape_pointer
from tether.importers._downgrade_schema import Report, SchemaDowngrade

__all__ = ["downgrade"]

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_OPERATION_KEYS = ("tags", "summary", "description", "externalDocs", "operationId", "deprecated", "security")
_FLOWS = {
    "authorizationCode": "accessCode",
    "implicit": "implicit",
    "password": "password",
    "clientCredentials": "application",
}


def downgrade(data: dict[str, Any], report: Report) -> dict[str, Any]:
    """The Swagger 2.0 form of OpenAPI 3.x ``data`` (which is left untouched)."""
    return _Downgrade(data, report).run()


class _Downgrade:
    def __init__(self, data: dict[str, Any], report: Report) -> None:
        self.data = data
        self.report = report
        self.schemas = SchemaDowngrade(data, report)
        self.dropped_schemes: set[str] = set()

    def run(self) -> dict[str, Any]:
        data = self.data
        out: dict[str, Any] = {"swagger": "2.0", "info": self._info(data.get("info"))}
        out.update(self._server(data.get("servers")))
        components = data["components"] if isinstance(data.get("components"), dict) else {}
        security_definitions = self._security_schemes(components.get("securitySchemes"))
        out["paths"] = self._paths(data.get("paths"))
        schemas = components.get("schemas")
        if isinstance(schemas, dict):
            out["definitions"] = {
                name: self.schemas.schema(s, f"/components/schemas/{escape_pointer(name)}")
                for name, s in schemas.items()
            }
        parameters = components.get("parameters")
        if isinstance(parameters, dict):
            converted = {}
            for name, parameter in parameters.items():
                where = f"/components/parameters/{escape_pointer(name)}"
                new = self._parameter(parameter, where)
                if new is not None:
                    converted[name] = new
            out["parameters"] = converted
        responses = components.get("responses")
        if isinstance(responses, dict):
            out["responses"] = {
                name: self._response(r, f"/components/responses/{escape_pointer(name)}", [])
                for name, r in responses.items()
            }
        if security_definitions:
            out["securityDefinitions"] = security_definitions
        if isinstance(data.get("security"), list):
            out["security"] = self._security(data["security"], "/security")
        for key, value in data.items():
            if key in ("tags", "externalDocs") or key.startswith("x-"):
                out[key] = value
            elif key == "webhooks" and value:
                self.report("unsupported", "/webhooks", "webhooks have no Swagger 2.0 form; dropped")
            elif key == "jsonSchemaDialect":
                self.report("unsupported", "/jsonSchemaDialect", "jsonSchemaDialect dropped")
        for kind in ("headers", "examples", "links", "callbacks", "pathItems"):
            if components.get(kind):
                self.report(
                    "approximation", f"/components/{kind}", f"components/{kind} are inlined or dropped"
                )
        return out

    def _info(self, info: Any) -> Any:
        if not isinstance(info, dict):
            return info
        out = dict(info)
        if "summary" in out:
            self.report("unsupported", "/info/summary", "info.summary has no Swagger 2.0 form; dropped")
            del out["summary"]
        license_ = out.get("license")
        if isinstance(license_, dict) and "identifier" in license_:
            self.report("unsupported", "/info/license/identifier", "license identifier dropped")
            out["license"] = {k: v for k, v in license_.items() if k != "identifier"}
        return out

    def _server(self, servers: Any) -> dict[str, Any]:
        if not isinstance(servers, list) or not servers or not isinstance(servers[0], dict):
            return {}
        url = str(servers[0].get("url", ""))
        variables = servers[0].get("variables")
        if isinstance(variables, dict) and variables:
            for name, variable in variables.items():
                default = variable.get("default", "") if isinstance(variable, dict) else ""
                url = url.replace("{" + name + "}", str(default))
            self.report("approximation", "/servers/0/variables", "server variables fixed to their defaults")
        for index in range(1, len(servers)):
            self.report(
                "unsupported", f"/servers/{index}", "Swagger 2.0 has one server; only the first is kept"
            )
        parts = urlsplit(url)
        out: dict[str, Any] = {}
        if parts.netloc:
            out["host"] = parts.netloc
        if parts.scheme in ("http", "https"):
            out["schemes"] = [parts.scheme]
        base = parts.path.rstrip("/")
        if base:
            out["basePath"] = base
        return out

    def _paths(self, paths: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for path, raw in (paths or {}).items() if isinstance(paths, dict) else []:
            where = f"/paths/{escape_pointer(path)}"
            item = self.schemas.resolve(raw)
            if not isinstance(item, dict):
                continue
            new: dict[str, Any] = {}
            for key, value in item.items():
                at = f"{where}/{escape_pointer(key)}"
                if key in _METHODS and isinstance(value, dict):
                    new[key] = self._operation(value, at)
                elif key == "parameters" and isinstance(value, list):
                    new[key] = self._parameters(value, at)
                elif key.startswith("x-"):
                    new[key] = value
                elif key in ("summary", "description") or key in ("servers", "trace"):
                    self.report("unsupported", at, f"path-level {key} has no Swagger 2.0 form; dropped")
            out[path] = new
        return out

    def _operation(self, operation: dict[str, Any], where: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        produces: list[str] = []
        for key, value in operation.items():
            at = f"{where}/{escape_pointer(key)}"
            if key in _OPERATION_KEYS:
                out[key] = self._security(value, at) if key == "security" else value
            elif key == "parameters" and isinstance(value, list):
                out.setdefault("parameters", []).extend(self._parameters(value, at))
            elif key == "requestBody":
                consumes, parameters = self._request_body(value, at)
                if consumes:
                    out["consumes"] = consumes
                out.setdefault("parameters", []).extend(parameters)
            elif key == "responses" and isinstance(value, dict):
                out["responses"] = {
                    code: self._response(r, f"{at}/{escape_pointer(str(code))}", produces)
                    for code, r in value.items()
                }
            elif key.startswith("x-"):
                out[key] = value
            else:
                self.report("unsupported", at, f"operation {key} has no Swagger 2.0 form; dropped")
        if produces:
            out["produces"] = produces
        return out

    def _parameters(self, parameters: list[Any], where: str) -> list[Any]:
        out = []
        for index, parameter in enumerate(parameters):
            at = f"{where}/{index}"
            if isinstance(parameter, dict) and isinstance(parameter.get("$ref"), str):
                target = self.schemas.resolve(parameter)
                if isinstance(target, dict) and target.get("in") == "cookie":
                    self.report("unsupported", at, "cookie parameters have no Swagger 2.0 form; dropped")
                else:
                    out.append({"$ref": self.schemas.ref(parameter["$ref"], at)})
                continue
            new = self._parameter(parameter, at)
            if new is not None:
                out.append(new)
        return out

    def _parameter(self, parameter: Any, where: str) -> dict[str, Any] | None:
        parameter = self.schemas.resolve(parameter)
        if not isinstance(parameter, dict):
            return None
        if parameter.get("in") == "cookie":
            self.report("unsupported", where, "cookie parameters have no Swagger 2.0 form; dropped")
            return None
        out: dict[str, Any] = {
            k: parameter[k] for k in ("name", "in", "description", "required") if k in parameter
        }
        schema = parameter.get("schema")
        if schema is None and isinstance(parameter.get("content"), dict) and parameter["content"]:
            media = next(iter(parameter["content"].values()))
            schema = media.get("schema") if isinstance(media, dict) else None
            self.report(
                "approximation", f"{where}/content", "parameter content became a plain string parameter"
            )
        style, explode = parameter.get("style"), parameter.get("explode")
        if parameter.get("in") == "query" and parameter.get("allowEmptyValue") is not None:
            out["allowEmptyValue"] = parameter["allowEmptyValue"]
        out.update(self.schemas.primitive(schema, f"{where}/schema", style=style, explode=explode))
        if out.get("type") == "array" and "collectionFormat" not in out and parameter.get("in") == "query":
            out["collectionFormat"] = "multi"
        target = self.schemas.resolve(schema)
        if isinstance(target, dict) and target.get("nullable") is True:
            out["x-nullable"] = True
        if "example" in parameter and "x-example" not in parameter:
            out["x-example"] = parameter["example"]
        for key, value in parameter.items():
            if key.startswith("x-"):
                out[key] = value
            elif key in ("deprecated", "examples", "allowReserved") and value:
                self.report(
                    "unsupported", f"{where}/{key}", f"parameter {key} has no Swagger 2.0 form; dropped"
                )
        return out

    def _request_body(self, body: Any, where: str) -> tuple[list[str], list[dict[str, Any]]]:
        body = self.schemas.resolve(body)
        content = body.get("content") if isinstance(body, dict) else None
        if not isinstance(content, dict) or not content:
            return [], []
        media_type = next(iter(content))
        if len(content) > 1:
            self.report(
                "approximation", f"{where}/content", f"several request media types; {media_type!r} is kept"
            )
        media = content[media_type] if isinstance(content[media_type], dict) else {}
        at = f"{where}/content/{escape_pointer(media_type)}"
        schema = media.get("schema", {})
        if media_type in _FORM_TYPES:
            return [media_type], self._form_parameters(schema, f"{at}/schema", media.get("encoding"))
        parameter: dict[str, Any] = {"name": body.get("x-codegen-request-body-name", "body"), "in": "body"}
        if "description" in body:
            parameter["description"] = body["description"]
        if body.get("required") is True:
            parameter["required"] = True
        parameter["schema"] = self.schemas.schema(schema, f"{at}/schema")
        if "example" in media and isinstance(parameter["schema"], dict) and "$ref" not in parameter["schema"]:
            parameter["schema"].setdefault("example", media["example"])
        if media.get("examples"):
            self.report("unsupported", f"{at}/examples", "request examples have no Swagger 2.0 form; dropped")
        return [media_type], [parameter]

    def _form_parameters(self, schema: Any, where: str, encoding: Any) -> list[dict[str, Any]]:
        resolved = self.schemas.resolve(schema)
        properties = resolved.get("properties") if isinstance(resolved, dict) else None
        if not isinstance(properties, dict):
            return []
        required = resolved["required"] if isinstance(resolved.get("required"), list) else []
        out = []
        for name, prop in properties.items():
            at = f"{where}/properties/{escape_pointer(name)}"
            target = self.schemas.resolve(prop)
            parameter: dict[str, Any] = {"name": name, "in": "formData"}
            if isinstance(target, dict) and target.get("description"):
                parameter["description"] = target["description"]
            if name in required:
                parameter["required"] = True
            if isinstance(target, dict) and target.get("format") in ("binary", "base64"):
                parameter["type"] = "file"
            else:
                parameter.update(self.schemas.primitive(prop, at, style=None, explode=None))
            out.append(parameter)
        if encoding:
            self.report("unsupported", f"{where}/../encoding", "form encoding options dropped")
        return out

    def _response(self, response: Any, where: str, produces: list[str]) -> Any:
        if isinstance(response, dict) and isinstance(response.get("$ref"), str):
            return {"$ref": self.schemas.ref(response["$ref"], where)}
        if not isinstance(response, dict):
            return response
        out: dict[str, Any] = {"description": response.get("description", "")}
        content = response.get("content")
        if isinstance(content, dict) and content:
            media_type = next(iter(content))
            if len(content) > 1:
                self.report(
                    "approximation",
                    f"{where}/content",
                    f"several response media types; {media_type!r} is kept",
                )
            if media_type not in produces:
                produces.append(media_type)
            media = content[media_type] if isinstance(content[media_type], dict) else {}
            if "schema" in media:
                out["schema"] = self.schemas.schema(
                    media["schema"], f"{where}/content/{escape_pointer(media_type)}/schema"
                )
            if "example" in media:
                out["examples"] = {media_type: media["example"]}
            elif media.get("examples"):
                self.report(
                    "approximation",
                    f"{where}/content/{escape_pointer(media_type)}/examples",
                    "named examples have no Swagger 2.0 form; dropped",
                )
        headers = response.get("headers")
        if isinstance(headers, dict) and headers:
            out["headers"] = {}
            for name, header in headers.items():
                at = f"{where}/headers/{escape_pointer(name)}"
                resolved = self.schemas.resolve(header)
                schema = resolved.get("schema") if isinstance(resolved, dict) else None
                new = self.schemas.primitive(schema, f"{at}/schema", style=None, explode=None)
                if isinstance(resolved, dict) and resolved.get("description"):
                    new["description"] = resolved["description"]
                out["headers"][name] = new
        for key, value in response.items():
            if key.startswith("x-"):
                out[key] = value
            elif key == "links" and value:
                self.report(
                    "unsupported", f"{where}/links", "response links have no Swagger 2.0 form; dropped"
                )
        return out

    def _security_schemes(self, schemes: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, raw in (schemes or {}).items() if isinstance(schemes, dict) else []:
            where = f"/components/securitySchemes/{escape_pointer(name)}"
            scheme = self.schemas.resolve(raw)
            new = self._security_scheme(scheme, where) if isinstance(scheme, dict) else None
            if new is None:
                self.dropped_schemes.add(name)
            else:
                if isinstance(scheme, dict) and scheme.get("description"):
                    new["description"] = scheme["description"]
                out[name] = new
        return out

    def _security_scheme(self, scheme: dict[str, Any], where: str) -> dict[str, Any] | None:
        kind = scheme.get("type")
        if kind == "apiKey" and scheme.get("in") in ("header", "query"):
            return {"type": "apiKey", "name": scheme.get("name"), "in": scheme["in"]}
        http = str(scheme.get("scheme", "")).lower()
        if kind == "http" and http == "basic":
            return {"type": "basic"}
        if kind == "http" and http == "bearer":
            self.report(
                "approximation", where, "bearer authentication became an Authorization header API key"
            )
            return {"type": "apiKey", "name": "Authorization", "in": "header"}
        if kind == "oauth2" and isinstance(scheme.get("flows"), dict) and scheme["flows"]:
            flows = scheme["flows"]
            chosen = next((f for f in _FLOWS if f in flows), None)
            if chosen is None:
                return None
            for other in flows:
                if other != chosen:
                    self.report("unsupported", f"{where}/flows/{other}", "Swagger 2.0 keeps one OAuth flow")
            flow = flows[chosen]
            out: dict[str, Any] = {"type": "oauth2", "flow": _FLOWS[chosen]}
            for key in ("authorizationUrl", "tokenUrl"):
                if key in flow:
                    out[key] = flow[key]
            out["scopes"] = flow.get("scopes", {})
            if flow.get("refreshUrl") and flow.get("refreshUrl") != flow.get("tokenUrl"):
                self.report("unsupported", f"{where}/flows/{chosen}/refreshUrl", "refreshUrl dropped")
            return out
        self.report("unsupported", where, f"security scheme {kind!r} has no Swagger 2.0 form; dropped")
        return None

    def _security(self, requirements: Any, where: str) -> Any:
        if not isinstance(requirements, list) or not self.dropped_schemes:
            return requirements
        out = []
        for requirement in requirements:
            if isinstance(requirement, dict) and set(requirement) & self.dropped_schemes:
                self.report("unsupported", where, "a security requirement names a dropped scheme; removed")
                continue
            out.append(requirement)
        return out
