"""The internal operation model (IR): one shape for Swagger 2.0 and OpenAPI 3.x.

The runtime, the linter, the flow designer and the MCP server all ask the same questions
of a connector: which operations are there, which inputs does each take and where do they
go on the wire, what comes back, how is it secured. Answering them from raw documents
means handling two specifications and their sloppy real-world variants everywhere; the
compilers (``_swagger2.py``, ``_openapi3.py``) answer them once, here.

Nothing is lost: every object keeps its ``x-*`` keys in ``extensions`` and its JSON
``pointer`` into the source document, and ``Api.raw`` is the document itself. Schemas are
plain dicts with local references resolved (see ``_refs.py``: shared, possibly cyclic,
read-only).

The classes are frozen: a compiled API is a value that can be cached and shared between
requests and threads. Their list and dict fields are not copied defensively (that would
cost too much on big documents), so do not mutate them either. Classes that hold schemas
compare by identity (``eq=False``): a recursive schema is a cyclic dict, and ``==`` on two
cyclic dicts never ends. Compare their fields instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from tether.definition._refs import ExternalRef
from tether.errors import NotFound

__all__ = [
    "NO_DEFAULT",
    "Api",
    "NoDefault",
    "OAuthFlow",
    "Operation",
    "Parameter",
    "ParameterLocation",
    "RequestBody",
    "Response",
    "SecurityRequirement",
    "SecurityScheme",
    "Server",
    "ServerVariable",
]

ParameterLocation = Literal["path", "query", "header", "cookie", "formData", "body"]
Trigger = Literal["single", "batch"]
# {scheme name: [scopes]}; a list of these is OR, the keys of one are AND (both specs agree).
SecurityRequirement = dict[str, list[str]]


class NoDefault:
    """The type of ``NO_DEFAULT``: a parameter declares no default (``None`` is a valid one)."""

    _instance: NoDefault | None = None

    def __new__(cls) -> NoDefault:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NO_DEFAULT"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> str:
        return "NO_DEFAULT"  # pickles (process pools, caches) keep the singleton


NO_DEFAULT: Final = NoDefault()


@dataclass(frozen=True, slots=True)
class ServerVariable:
    """A ``{name}`` placeholder in a server URL (OpenAPI 3)."""

    default: str
    enum: list[str] = field(default_factory=list)
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Server:
    """Where the API lives.

    ``url`` may be relative (``/api``): Swagger 2.0 connectors often leave ``host`` empty
    and set it per connection through the ``dynamichosturl`` policy or a connection
    parameter, so an empty host is kept rather than invented.
    """

    url: str
    description: str | None = None
    variables: dict[str, ServerVariable] = field(default_factory=dict)
    extensions: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OAuthFlow:
    """One OAuth 2.0 flow.

    ``kind`` uses OpenAPI 3 names: Swagger's ``accessCode`` is ``authorizationCode`` and its
    ``application`` is ``clientCredentials``.
    """

    kind: str
    authorization_url: str | None = None
    token_url: str | None = None
    refresh_url: str | None = None
    scopes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SecurityScheme:
    """A way to authenticate, as declared in ``securityDefinitions`` / ``components.securitySchemes``.

    ``kind`` is the declared type (``apiKey``, ``basic``, ``oauth2``, ``http``,
    ``openIdConnect``, ``mutualTLS``). For API keys ``location`` is ``header``, ``query`` or
    ``cookie`` and ``param_name`` the header or parameter name; for HTTP ``scheme`` is
    ``basic`` / ``bearer``... (Swagger 2.0 ``basic`` also gets ``scheme="basic"``).
    """

    name: str
    kind: str
    description: str | None = None
    location: str | None = None
    param_name: str | None = None
    scheme: str | None = None
    bearer_format: str | None = None
    flows: dict[str, OAuthFlow] = field(default_factory=dict)
    open_id_connect_url: str | None = None
    pointer: str = ""
    extensions: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, eq=False)
class Parameter:
    """One input of an operation, with its wire details made explicit.

    ``style``/``explode`` are always set for path, query, header and cookie parameters:
    OpenAPI 3 defaults are applied, and Swagger 2.0 ``collectionFormat`` is translated
    (``csv`` ⇒ form/simple without explode, ``multi`` ⇒ form with explode, ``ssv`` ⇒
    spaceDelimited, ``pipes`` ⇒ pipeDelimited; ``tsv`` has no OpenAPI 3 equivalent, so
    ``collection_format`` keeps the original). Path parameters are always ``required``.
    ``dynamic_*`` hold the ``x-ms-dynamic-*`` objects, found on the parameter or its schema.
    """

    name: str
    location: ParameterLocation
    required: bool = False
    schema: dict[str, Any] = field(default_factory=dict)
    default: Any = NO_DEFAULT
    description: str | None = None
    summary: str | None = None
    visibility: str | None = None
    url_encoding: str = "single"
    collection_format: str | None = None
    style: str | None = None
    explode: bool | None = None
    allow_reserved: bool = False
    dynamic_values: dict[str, Any] | None = None
    dynamic_list: dict[str, Any] | None = None
    dynamic_schema: dict[str, Any] | None = None
    notification_url: bool = False
    test_value: Any = NO_DEFAULT
    pointer: str = ""
    extensions: dict[str, Any] = field(default_factory=dict)

    @property
    def has_default(self) -> bool:
        """Whether a default was declared (``None`` counts)."""
        return self.default is not NO_DEFAULT


@dataclass(frozen=True, slots=True, eq=False)
class RequestBody:
    """What an operation sends as its body, by media type.

    From Swagger 2.0 it is built from ``consumes`` and the ``in: body`` parameter (whose
    ``name`` is kept, flows address the body by it), or from ``formData`` parameters as an
    object schema (``multipart/form-data`` when a file is among them).
    """

    content: dict[str, dict[str, Any]] = field(default_factory=dict)
    required: bool = False
    description: str | None = None
    name: str | None = None
    pointer: str = ""
    extensions: dict[str, Any] = field(default_factory=dict)

    @property
    def schema(self) -> dict[str, Any] | None:
        """The schema of the first media type (all are the same in Swagger 2.0)."""
        return next(iter(self.content.values()), None)


@dataclass(frozen=True, slots=True, eq=False)
class Response:
    """One declared response (``status`` is ``"200"``, ``"2XX"`` or ``"default"``).

    ``headers`` maps header names to their schema; ``content`` maps media types to the
    body schema (empty when no body is declared). Extensions about the body, such as
    ``x-ms-dynamic-schema``, live in the schema.
    """

    status: str
    description: str | None = None
    headers: dict[str, dict[str, Any]] = field(default_factory=dict)
    content: dict[str, dict[str, Any]] = field(default_factory=dict)
    pointer: str = ""
    extensions: dict[str, Any] = field(default_factory=dict)

    @property
    def schema(self) -> dict[str, Any] | None:
        """The body schema of the first media type, or None without a body."""
        return next(iter(self.content.values()), None)


@dataclass(frozen=True, slots=True, eq=False)
class Operation:
    """One action or trigger.

    ``operation_id`` is generated from method and path when the document has none
    (``get_pets_petId``, ``generated_id=True``); generation is deterministic, so the same
    document gives the same ids on every run. ``trigger`` is ``x-ms-trigger`` (``None``
    for actions); ``security`` is ``None`` when the operation inherits the API's.
    ``parameters`` include those declared on the path item, overridden by name and
    location at operation level, in declaration order.
    """

    operation_id: str
    method: str
    path: str
    generated_id: bool = False
    summary: str | None = None
    description: str | None = None
    tags: list[str] = field(default_factory=list)
    deprecated: bool = False
    visibility: str | None = None
    trigger: Trigger | None = None
    trigger_hint: str | None = None
    annotations: dict[str, Any] | None = None
    next_link_name: str | None = None
    parameters: list[Parameter] = field(default_factory=list)
    request_body: RequestBody | None = None
    responses: dict[str, Response] = field(default_factory=dict)
    security: list[SecurityRequirement] | None = None
    notification_content: dict[str, Any] | None = None
    pointer: str = ""
    extensions: dict[str, Any] = field(default_factory=dict)

    def parameter(self, name: str, location: str | None = None) -> Parameter | None:
        """The parameter called ``name`` (in ``location`` when given), or None."""
        for param in self.parameters:
            if param.name == name and (location is None or param.location == location):
                return param
        return None


@dataclass(frozen=True, slots=True, eq=False)
class Api:
    """A compiled API definition.

    ``spec_version`` is the declared ``swagger``/``openapi`` string (``"2.0"``,
    ``"3.0.3"``...). ``extensions`` are the root's ``x-*`` keys (``x-ms-connector-metadata``,
    ``x-ms-capabilities``...); ``raw`` is the source document (shared, not copied).
    ``external_refs`` lists references to other files, which are never fetched.
    """

    title: str
    version: str
    spec_version: str
    description: str | None = None
    servers: list[Server] = field(default_factory=list)
    operations: list[Operation] = field(default_factory=list)
    security_schemes: dict[str, SecurityScheme] = field(default_factory=dict)
    security: list[SecurityRequirement] = field(default_factory=list)
    tags: list[dict[str, Any]] = field(default_factory=list)
    extensions: dict[str, Any] = field(default_factory=dict)
    external_refs: list[ExternalRef] = field(default_factory=list)
    name: str = "definition"
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
    _by_id: dict[str, Operation] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        by_id: dict[str, Operation] = {}
        for operation in self.operations:
            by_id.setdefault(operation.operation_id, operation)  # duplicates: first wins, lint reports
        object.__setattr__(self, "_by_id", by_id)

    @property
    def operations_by_id(self) -> Mapping[str, Operation]:
        """Operations keyed by ``operation_id`` (the first one when ids repeat)."""
        return self._by_id

    def operation(self, operation_id: str) -> Operation:
        """The operation with this id; ``NotFound`` names the API when there is none."""
        try:
            return self._by_id[operation_id]
        except KeyError:
            raise NotFound(f"{self.name}: no operation with id '{operation_id}'") from None

    def operation_security(self, operation: Operation) -> list[SecurityRequirement]:
        """The requirements that apply to ``operation`` (its own, else the API's)."""
        return self.security if operation.security is None else operation.security
