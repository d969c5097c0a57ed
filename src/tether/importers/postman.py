"""Postman collections (v2.0 / v2.1) to a Power Platform connector package.

Every request becomes an operation, except that requests sharing a method and path are
merged into one, as postman2openapi does. What a collection can say but Swagger 2.0
cannot is settled here, collection-wide, with Power Platform's own tools so the package
still imports into Power Platform:

* several requests on one method and path (common: examples of one endpoint) are merged
  into one operation (bodies and parameters as alternatives) and each merge is reported;
  one that cannot be merged without changing what it sends (a body against form fields,
  another auth, another server), or every one with ``merge_duplicates=False``, keeps an
  operation of its own at a virtual path routed back by a ``routerequesttoendpoint`` policy;
* requests on other hosts than the main one get a per-operation ``dynamichosturl`` policy;
* a base URL held in an unknown ``{{variable}}`` becomes a connection parameter used by a
  ``dynamichosturl`` policy;
* distinct auths become ``connectionParameterSets``.

Nothing is invented: what cannot be mapped is listed in the report with its item path.

    >>> result = import_postman(Path("api.postman_collection.json").read_bytes())  # doctest: +SKIP
    >>> write_package(result.package, "my-connector")  # doctest: +SKIP
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from tether.definition import DEFINITION_FILE, PROPERTIES_FILE, package_from_files
from tether.importers._postman_auth import AuthScheme, auth_key, map_auth
from tether.importers._postman_collection import Collection, PostmanRequest, read_collection
from tether.importers._postman_merge import can_merge, merge_operation
from tether.importers._postman_operation import METHODS, build_operation, operation_id
from tether.importers._postman_url import PLACEHOLDER, PostmanUrl, parse_url, safe_name
from tether.importers._result import ImportResult, ReportItem, ReportKind, dump_json

__all__ = ["import_postman"]

DEFAULT_BRAND_COLOR = "#007ee5"


def import_postman(
    source: bytes, *, name: str = "collection.json", merge_duplicates: bool = True
) -> ImportResult:
    """Import a Postman collection v2.0/v2.1 (the exported JSON) as a connector package.

    Requests sharing a method and path are merged into one operation, as postman2openapi
    does, and the report lists each merge. With ``merge_duplicates=False`` (the CLI's
    ``--keep-duplicates``) each stays an action of its own, exposed at a virtual path and
    routed back by a policy, for users who want one action per saved request.

    Raises:
        InputError: not a v2.0/v2.1 collection, a v1 collection, or no request in it.
        DocumentSyntaxError: the JSON cannot be read.
    """
    collection = read_collection(source, name=name)
    builder = _Builder(collection, merge_duplicates=merge_duplicates)
    definition, properties = builder.build()
    package = package_from_files(
        {DEFINITION_FILE: dump_json(definition), PROPERTIES_FILE: dump_json(properties)}, source=name
    )
    return ImportResult(package, builder.report)


_TEMPLATE = re.compile(r"\{([^{}/]+)\}")


class _Builder:
    """Accumulates operations, servers, auths and policies across the whole collection."""

    def __init__(self, collection: Collection, *, merge_duplicates: bool = True) -> None:
        self.collection = collection
        self.merge_duplicates = merge_duplicates
        self.report: list[ReportItem] = []
        self.paths: dict[str, dict[str, Any]] = {}
        self.owners: dict[tuple[str, str], list[_Owner]] = {}  # operations a duplicate may merge into
        self.policies: list[dict[str, Any]] = []
        self.variable_parameters: dict[str, Any] = {}
        self.schemes: dict[str, AuthScheme | str] = {}
        self.scheme_names: set[str] = set()
        self.requirements: list[list[dict[str, list[str]]]] = []
        self.ordered: list[dict[str, Any]] = []  # operations in request order, beside `requirements`

    def build(self) -> tuple[dict[str, Any], dict[str, Any]]:
        collection = self.collection
        for where in collection.scripts:
            self._add("unsupported", where, "pre-request and test scripts are not run by connectors")
        items: list[tuple[PostmanRequest, str, PostmanUrl]] = []
        for item in collection.requests:
            method = str(item.request.get("method") or "GET").lower()
            if method not in METHODS:
                self._add("unsupported", item.where, f"HTTP method {method.upper()} has no Swagger 2.0 form")
                continue
            items.append((item, method, parse_url(item.request.get("url"), collection.variables)))
        servers = Counter((url.server, url.base_path) for _, _, url in items)
        main = servers.most_common(1)[0][0] if servers else ("https://localhost", "")
        taken: set[str] = set()
        by_server: dict[tuple[str, str], list[str]] = {}
        for item, method, url in items:
            op_id = operation_id(item.name, method, url.path, taken)
            if self._add_operation(item, method, url, op_id):  # a merged request adds no operation
                by_server.setdefault((url.server, url.base_path), []).append(op_id)
        definition: dict[str, Any] = {
            "swagger": "2.0",
            "info": {"title": collection.name, "version": "1.0.0"},
        }
        if collection.description:
            definition["info"]["description"] = collection.description
        definition.update(self._server(main, by_server, len(self.ordered)))
        definition["paths"] = self.paths
        self._declare_path_parameters()
        self._security(definition)
        tags = [
            {"name": " / ".join(path), **({"description": d} if d else {})}
            for path, d in collection.folders.items()
        ]
        used = {t for op in self._operations() for t in op.get("tags", [])}
        if used:
            definition["tags"] = [t for t in tags if t["name"] in used]
        return definition, self._properties()

    def _declare_path_parameters(self) -> None:
        """Every ``{name}`` of a path template is a declared path parameter, or the report says why not."""
        for path, item in self.paths.items():
            names = [safe_name(n) for n in _TEMPLATE.findall(path)]
            for method, operation in item.items():
                declared = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "path"}
                for name in [n for n in names if n not in declared]:
                    parameter = {"name": name, "in": "path", "required": True, "type": "string"}
                    operation.setdefault("parameters", []).append(parameter)
                    self._add(
                        "warning",
                        f"{method.upper()} {path}",
                        f"path parameter {name!r} is in the URL but not described; declared as a "
                        "required string",
                    )

    def _add(self, kind: ReportKind, where: str, message: str) -> None:
        self.report.append(ReportItem(kind, where, message))

    def _operations(self) -> list[dict[str, Any]]:
        return [op for item in self.paths.values() for op in item.values()]

    def _add_operation(self, item: PostmanRequest, method: str, url: PostmanUrl, op_id: str) -> bool:
        """Add the request as an operation (True), or merge it into its method and path's (False)."""
        built = build_operation(item, url, op_id)
        for note in url.notes:
            self._add("info", item.where, note)
        for kind, message in built.notes:
            self._add(kind, item.where, message)
        requirement = self._requirement(item, built.authorization_header)
        path = url.path
        owners = self.owners.setdefault((method, path), [])
        obstacles = [_merge_obstacle(owner, built.operation, url, requirement) for owner in owners]
        if self.merge_duplicates and None in obstacles:
            self._merge(item, method, path, owners[obstacles.index(None)], built.operation)
            return False
        if owners:
            path = self._route(item, method, url, op_id, owners[0], obstacles[0])
        # Later duplicates that can share what this one sends merge into it, wherever it is exposed.
        owners.append(_Owner(item.where, (url.server, url.base_path), requirement, built.operation))
        self.paths.setdefault(path, {})[method] = built.operation
        self.ordered.append(built.operation)
        self.requirements.append(requirement)
        return True

    def _merge(
        self,
        item: PostmanRequest,
        method: str,
        path: str,
        owner: _Owner,
        operation: dict[str, Any],
    ) -> None:
        # Swagger has one operation per method and path: merge, as postman2openapi does.
        existing = owner.operation
        approximations = merge_operation(existing, operation)
        self._add(
            "approximation",
            item.where,
            f"shares {method.upper()} {path} with {owner.where!r}: merged into operation "
            f"{existing['operationId']!r} (its parameters and body are alternatives there; "
            "--keep-duplicates keeps it a separate action)" + "".join(f"; {note}" for note in approximations),
        )

    def _route(
        self,
        item: PostmanRequest,
        method: str,
        url: PostmanUrl,
        op_id: str,
        owner: _Owner,
        obstacle: str | None,
    ) -> str:
        """Expose a duplicate at a virtual path routed back to its real one; returns that path."""
        path = _virtual_path(url.path, op_id, method, self.paths)
        self.policies.append(
            {
                "templateId": "routerequesttoendpoint",
                "title": f"Route {op_id} to {method.upper()} {url.path}",
                "parameters": {
                    "x-ms-apimTemplateParameter.newPath": url.path,
                    "x-ms-apimTemplateParameter.httpMethod": method.upper(),
                    "x-ms-apimTemplate-operationName": [op_id],
                },
            }
        )
        self._add(
            "approximation",
            item.where,
            f"shares {method.upper()} {url.path} with {owner.where!r}; Swagger allows one operation per "
            f"method and path, so it is exposed at {path} and routed to {url.path} by a policy"
            + (f" ({obstacle})" if obstacle else " (kept apart as asked; by default they merge into one)"),
        )
        return path

    def _requirement(self, item: PostmanRequest, header: str | None) -> list[dict[str, list[str]]]:
        auth, where = item.auth, item.auth_where
        if auth is None and header is not None:
            # A hand-written Authorization header is a credential: it belongs to the connection.
            auth, where = {"type": "apikey", "key": "Authorization", "in": "header"}, item.where
            self._add(
                "approximation",
                item.where,
                "the Authorization header became an API key connection parameter (enter the whole value)",
            )
        elif auth is not None and header is not None:
            self._add("info", item.where, "the Authorization header is replaced by the request's auth")
        if auth is None:
            return []
        key = auth_key(auth)
        if key not in self.schemes:
            mapped = map_auth(auth, self.collection.variables, self.scheme_names)
            self.schemes[key] = mapped
            if isinstance(mapped, str):
                self._add("unsupported", where, mapped)
            else:
                for kind, message in mapped.notes:
                    self._add(kind, where, message)
        mapped = self.schemes[key]
        return [] if isinstance(mapped, str) else [{mapped.name: mapped.scopes}]

    def _server(
        self, main: tuple[str, str], by_server: dict[tuple[str, str], list[str]], count: int
    ) -> dict[str, Any]:
        server, base_path = main
        scheme, _, authority = server.partition("://")
        if not authority:  # the whole base URL is one unknown variable
            scheme, authority = "https", server
        host = PLACEHOLDER.sub(lambda m: safe_name(m.group(1)).lower(), authority)
        out: dict[str, Any] = {"host": host, "basePath": base_path or "/", "schemes": [scheme]}
        for key, op_ids in by_server.items():
            templated = PLACEHOLDER.search(key[0]) is not None
            if key == main and not templated:
                continue
            template = self._url_template(key[0]) + key[1]
            parameters: dict[str, Any] = {"x-ms-apimTemplateParameter.urlTemplate": template}
            if len(op_ids) != count:
                parameters["x-ms-apimTemplate-operationName"] = op_ids
            self.policies.append(
                {"templateId": "dynamichosturl", "title": f"Send to {template}", "parameters": parameters}
            )
            where = "collection" if len(op_ids) == count else f"{len(op_ids)} request(s)"
            message = f"requests on {key[0]}{key[1]} are sent there by a dynamichosturl policy"
            if key == main:
                message += f"; host {host} in the definition is a placeholder"
            self._add("approximation", where, message)
        return out

    def _url_template(self, server: str) -> str:
        def to_parameter(match: Any) -> str:
            variable = match.group(1)
            name = safe_name(variable)
            if name not in self.variable_parameters:
                self.variable_parameters[name] = {
                    "type": "string",
                    "uiDefinition": {
                        "displayName": variable,
                        "description": f"Postman variable {{{{{variable}}}}} (part of the base URL)",
                        "tooltip": f"Provide the value of {variable}",
                        "constraints": {"tabIndex": 1, "clearText": True, "required": "true"},
                    },
                }
                self._add(
                    "approximation",
                    "collection",
                    f"{{{{{variable}}}}} has no value in the collection; it became the connection parameter "
                    f"{name!r} used to build the base URL",
                )
            return f"@connectionParameters('{name}')"

        return PLACEHOLDER.sub(to_parameter, server)

    def _security(self, definition: dict[str, Any]) -> None:
        mapped = [s for s in self.schemes.values() if isinstance(s, AuthScheme)]
        if not mapped:
            return
        definition["securityDefinitions"] = {s.name: s.definition for s in mapped}
        distinct = {repr(r) for r in self.requirements}
        if len(distinct) == 1:
            definition["security"] = self.requirements[0]
            return
        for operation, requirement in zip(self.ordered, self.requirements, strict=True):
            operation["security"] = requirement

    def _properties(self) -> dict[str, Any]:
        properties: dict[str, Any] = {"iconBrandColor": DEFAULT_BRAND_COLOR, "capabilities": []}
        mapped = [s for s in self.schemes.values() if isinstance(s, AuthScheme)]
        if len(mapped) > 1:
            properties["connectionParameterSets"] = {
                "uiDefinition": {
                    "displayName": "Authentication type",
                    "description": "The collection uses several kinds of authentication; pick one",
                },
                "values": [
                    {
                        "name": s.name,
                        "uiDefinition": {
                            "displayName": s.display,
                            "description": f"Sign in with {s.display}",
                        },
                        "parameters": {**s.parameters, **self.variable_parameters},
                    }
                    for s in mapped
                ],
            }
            self._add("info", "collection", "several auths: each connection uses one of them")
        else:
            properties["connectionParameters"] = {
                **(mapped[0].parameters if mapped else {}),
                **self.variable_parameters,
            }
        if self.policies:
            properties["policyTemplateInstances"] = self.policies
        self._add("info", "collection", "iconBrandColor is the default #007ee5; set your brand colour")
        return {"properties": properties}


@dataclass(frozen=True)
class _Owner:
    """The first request on a method and path: what a later one must share to merge into it."""

    where: str
    server: tuple[str, str]
    requirement: list[dict[str, list[str]]]
    operation: dict[str, Any]


def _merge_obstacle(
    owner: _Owner,
    operation: dict[str, Any],
    url: PostmanUrl,
    requirement: list[dict[str, list[str]]],
) -> str | None:
    """Why merging would change what a request sends (it then keeps its own operation), or None."""
    if not can_merge(owner.operation, operation):
        return "its body and the other's form fields cannot share one operation"
    if (url.server, url.base_path) != owner.server:
        return "it is sent to another server than the other"
    if requirement != owner.requirement:
        return "it uses another auth than the other"
    return None


def _virtual_path(path: str, op_id: str, method: str, paths: dict[str, dict[str, Any]]) -> str:
    base = path.rstrip("/")
    candidate, number = f"{base}/{op_id}", 2
    while method in paths.get(candidate, {}):
        candidate, number = f"{base}/{op_id}{number}", number + 1
    return candidate
