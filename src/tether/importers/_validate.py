"""openapi-spec-validator's verdict, with a JSON pointer for every problem.

openapi-spec-validator is the reference the acceptance rules name, so importers ask it, not
a look-alike. Its keyword validators (defaults, schema meta-checks, parameters...) raise
errors that carry no location, which is useless in a report and for ``--fix``. Each keyword
validator is therefore wrapped so an error it raises is tagged with the ``SchemaPath`` it was
checking; that logical path (which may run through ``$ref``s) is then walked in the document
to find the real pointer where the offending value is written.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from jsonschema.exceptions import ValidationError
from jsonschema_path import SchemaPath
from openapi_spec_validator.shortcuts import get_validator_cls
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
from openapi_spec_validator.validation.keywords import SchemaValidator, ValueValidator
from openapi_spec_validator.validation.validators import SpecValidator

from tether.definition import MAX_NESTING_DEPTH, escape_pointer, reference_cycles
from tether.errors import InputError, LimitExceeded

__all__ = ["Problem", "follow_ref", "is_missing", "real_pointer", "resolve", "spec_problems", "spec_version"]

_MAX_PROBLEMS = 500
_MAX_DETAIL = 160  # a validator's exception text can hold the whole document


@dataclass(frozen=True)
class Problem:
    """One openapi-spec-validator error, located.

    ``pointer`` is where the offending value is written; ``schema_pointer`` is the schema
    object being checked when a keyword validator raised it (else None); ``origin`` says
    which check: ``document`` (the OpenAPI JSON Schema), ``default`` (a default value
    against its schema), ``meta`` (a schema object against the JSON Schema dialect), or
    ``keyword`` (parameters, path templates, operationIds, tags...).
    """

    pointer: str
    message: str
    origin: str
    validator: str | None
    schema_pointer: str | None
    error: ValidationError


def spec_version(data: Any) -> str | None:
    """``"2.0"``, ``"3.0"`` or ``"3.1"`` for a supported document, else None."""
    if not isinstance(data, dict):
        return None
    if "swagger" in data:
        return "2.0" if str(data["swagger"]).strip() == "2.0" else None
    openapi = data.get("openapi")
    if isinstance(openapi, str):
        for version in ("3.0", "3.1"):
            if openapi == version or openapi.startswith(version + "."):
                return version
    return None


def spec_problems(data: dict[str, Any]) -> list[Problem]:
    """Every error openapi-spec-validator finds in ``data``, each with its pointer.

    Raises:
        InputError: a chain of references loops without reaching a value (the validator
            would follow it forever).
        LimitExceeded: the validator recursed past Python's limit on this document.
    """
    _refuse_reference_cycles(data)
    validator_cls = _locating_validator(get_validator_cls(data))
    found: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    try:
        for error in _errors(validator_cls(data)):
            problem = _locate(data, error)
            if (problem.pointer, problem.message) in seen:
                continue
            seen.add((problem.pointer, problem.message))
            found.append(problem)
            if len(found) >= _MAX_PROBLEMS:
                break
    except Exception as exc:  # outside any keyword validator: still a finding
        found.append(_locate(data, _crash(exc, None)))
    finally:
        # iter_errors is memoised per validator instance, which would keep every document alive.
        SpecValidator.iter_errors.__wrapped__.cache_clear()  # type: ignore[attr-defined]
    return found


def _refuse_reference_cycles(data: dict[str, Any]) -> None:
    cycles = reference_cycles(data)
    if cycles:
        where = "; ".join(f"at {c.pointer or '/'}: {c.describe()}" for c in cycles[:5])
        raise InputError(
            f"circular $ref: {where}; each reference points at another reference and none reaches a "
            "schema, so the document describes nothing there. Point one of them at a real definition "
            "(recursive schemas through properties or items are fine)",
            detail={"cycles": [{"pointer": c.pointer, "chain": list(c.chain)} for c in cycles]},
        )


def _errors(validator: SpecValidator) -> Iterator[ValidationError]:
    try:
        yield from validator.iter_errors()
    except RecursionError as exc:
        raise LimitExceeded(
            "openapi-spec-validator recursed too deeply on this document (deeply nested or "
            "self-referencing schemas); flatten the schemas or split the definition",
            limit="MAX_NESTING_DEPTH",
            value=MAX_NESTING_DEPTH,
        ) from exc


# One locating subclass per validator class (a handful: 2.0, 3.0, 3.1), made on first use.
_LOCATING: dict[type[SpecValidator], type[SpecValidator]] = {}


def _locating_validator(base: type[SpecValidator]) -> type[SpecValidator]:
    made = _LOCATING.get(base)
    if made is None:
        keywords = {name: _locating(cls) for name, cls in base.keyword_validators.items()}
        subclass = type(f"Locating{base.__name__}", (base,), {"keyword_validators": keywords})
        made = _LOCATING.setdefault(base, subclass)
    return made


def _locating(cls: type) -> type:
    """A subclass of keyword validator ``cls`` that tags its errors with where it looked."""

    def __call__(self: Any, *args: Any, **kwargs: Any) -> Iterator[ValidationError]:
        where = next((a for a in args if isinstance(a, SchemaPath)), None)
        try:
            for error in cls.__call__(self, *args, **kwargs):
                if getattr(error, "tether_parts", None) is None and where is not None:
                    # The spec validator re-wraps foreign errors, which would drop our tag; wrap first.
                    if not isinstance(error, OpenAPIValidationError):
                        error = OpenAPIValidationError.create_from(error)
                    _tag(error, tuple(where.parts), _origin(cls))
                yield error
        except Exception as exc:  # a validator bug on odd input is a finding, not a crash
            # The innermost wrapper catches it, so validation goes on with the next sibling.
            yield _crash(exc, where)

    return type(f"Locating{cls.__name__}", (cls,), {"__call__": __call__})


def _crash(exc: Exception, where: SchemaPath | None) -> ValidationError:
    text = str(exc)
    text = text if len(text) <= _MAX_DETAIL else text[:_MAX_DETAIL] + "..."
    detail = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    error = OpenAPIValidationError(f"openapi-spec-validator could not check this value ({detail})")
    _tag(error, tuple(where.parts) if where is not None else (), "crash")
    return error


def _tag(error: ValidationError, parts: tuple[Any, ...], origin: str) -> None:
    """Note on ``error`` the schema path it was raised at and which check raised it (read back by
    :func:`_locate`); the exception class is openapi-spec-validator's, so these are instance attributes."""
    vars(error).update(tether_parts=parts, tether_origin=origin)


def _origin(cls: type) -> str:
    if issubclass(cls, ValueValidator):
        return "default"
    if issubclass(cls, SchemaValidator):
        return "meta"
    return "keyword"


def _locate(data: dict[str, Any], error: ValidationError) -> Problem:
    parts = getattr(error, "tether_parts", None)
    message = error.message
    validator = error.validator if isinstance(error.validator, str) else None
    if parts is None:
        pointer = _pointer(list(error.absolute_path))
        return Problem(pointer, message, "document", validator, None, error)
    origin = getattr(error, "tether_origin", "keyword")
    base = real_pointer(data, [str(p) for p in parts])
    relative = [str(p) for p in error.path]
    if origin == "default":
        # The value validator checks ``default`` of the schema (or Swagger 2.0 parameter) at ``base``.
        pointer = base + _pointer(["default", *relative])
    elif origin == "meta" and relative:
        pointer = base + _pointer(relative)
    else:
        pointer = base
    schema_pointer = base if origin in ("default", "meta") else None
    return Problem(pointer, message, origin, validator, schema_pointer, error)


def real_pointer(data: Any, parts: list[str]) -> str:
    """The pointer where the value at logical path ``parts`` is written, following local refs."""
    node, pointer = data, ""
    for part in parts:
        node, pointer = follow_ref(data, node, pointer)
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return pointer + _pointer([part])
        pointer += "/" + escape_pointer(part)
    # A problem in a shared parameter or schema is fixed where it is written, not at its use.
    return follow_ref(data, node, pointer)[1]


def follow_ref(data: Any, node: Any, pointer: str) -> tuple[Any, str]:
    hops = 0
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#"):
        target = node["$ref"][1:]
        value = resolve(data, target)
        if value is _MISSING or hops > 32:
            break
        node, pointer, hops = value, target, hops + 1
    return node, pointer


_MISSING = object()


def resolve(data: Any, pointer: str) -> Any:
    """The value at JSON ``pointer`` in ``data``, or a sentinel when there is none."""
    node = data
    for raw in pointer.split("/")[1:] if pointer else []:
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return _MISSING
    return node


def is_missing(value: Any) -> bool:
    return value is _MISSING


def _pointer(tokens: list[Any]) -> str:
    return "".join("/" + escape_pointer(str(t)) for t in tokens)
