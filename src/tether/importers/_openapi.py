"""Importing an OpenAPI document (Swagger 2.0, OpenAPI 3.0 or 3.1) as a connector package.

Tether runs OpenAPI 3 natively, so the document is kept as the author wrote it (the user's
source of truth round-trips): only references to sibling files are bundled in, and only
``fix=True`` changes anything else. ``apiProperties.json`` is generated from the security
schemes. Real specs are often invalid; the import still succeeds and the report lists every
problem openapi-spec-validator and the linter find, each with its JSON pointer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tether.definition import DEFINITION_FILE, ICON_FILE, PROPERTIES_FILE, package_from_files
from tether.definition.lint import lint_package
from tether.errors import InputError
from tether.importers._bundle import read_openapi
from tether.importers._fix import fix_document
from tether.importers._result import ImportResult, dump_json
from tether.importers._security import connection_parameters
from tether.importers._validate import spec_problems

__all__ = ["DEFAULT_BRAND_COLOR", "import_openapi", "properties_for"]

DEFAULT_BRAND_COLOR = "#da3b01"
# structure/invalid-schema repeats what openapi-spec-validator already reported, in other words.
_DUPLICATED_RULES = frozenset({"structure/invalid-schema", "structure/empty-responses"})


def import_openapi(
    source: Path,
    *,
    fix: bool = False,
    title: str | None = None,
    description: str | None = None,
    brand_color: str | None = None,
    icon: bytes | None = None,
    progress: Callable[[str], None] | None = None,
) -> ImportResult:
    """Import the OpenAPI file ``source`` (JSON or YAML) into an in-memory connector package.

    ``title``, ``description``, ``brand_color`` and ``icon`` override what the document says.
    ``progress`` hears the name of each stage as it starts (big specs take seconds).
    With ``fix``, mechanical repairs (value types, unknown fields, duplicates...) are applied
    until openapi-spec-validator accepts the document, each reported as a ``fix`` item.

    Raises:
        DocumentSyntaxError: the file is not readable JSON or YAML.
        InputError: not OpenAPI, an unsupported version, or an unresolvable ``$ref``.
    """
    source = Path(source)
    step = progress or (lambda stage: None)
    notes: list[tuple[str, str, str]] = []
    step("reading")
    data = _json_model(read_openapi(source, fix=fix, report=notes), source)
    step("repairing and validating" if fix else "validating")
    _override_info(data, title, description)
    if fix:
        remaining = fix_document(data, lambda where, message: notes.append(("fix", where, message)))
        for problem in remaining:
            notes.append(("warning", problem.pointer, f"could not be fixed: {_first_line(problem.message)}"))
    else:
        for problem in spec_problems(data):
            notes.append(("warning", problem.pointer, _first_line(problem.message)))
    step("building the package")
    properties = properties_for(data, brand_color=brand_color, report=notes)
    files = {DEFINITION_FILE: dump_json(data), PROPERTIES_FILE: dump_json(properties)}
    if icon is not None:
        files[ICON_FILE] = icon
    package = package_from_files(files, source=str(source))
    result = ImportResult(package)
    for kind, where, message in notes:
        result.add(kind, where, message)  # type: ignore[arg-type]
    reported = {where for kind, where, _ in notes if kind == "warning"}
    step("linting")
    for finding in lint_package(package):
        if finding.severity == "info" or (
            finding.file.endswith(PROPERTIES_FILE) and finding.severity != "error"
        ):
            continue
        if finding.rule in _DUPLICATED_RULES and (finding.pointer in reported or fix):
            continue
        result.add("warning", finding.pointer, f"[{finding.rule}] {finding.message}")
    return result


def properties_for(
    data: dict[str, Any], *, brand_color: str | None = None, report: list[tuple[str, str, str]] | None = None
) -> dict[str, Any]:
    """``apiProperties.json`` content for ``data``: connection parameters, brand colour, capabilities."""
    properties: dict[str, Any] = connection_parameters(data, report if report is not None else [])
    properties["iconBrandColor"] = brand_color or DEFAULT_BRAND_COLOR
    properties["capabilities"] = []
    return {"properties": properties}


def _override_info(data: dict[str, Any], title: str | None, description: str | None) -> None:
    if title is None and description is None:
        return
    info = data.get("info")
    if not isinstance(info, dict):
        info = data["info"] = {}
    if title is not None:
        info["title"] = title
    if description is not None:
        info["description"] = description


def _json_model(data: dict[str, Any], source: Path) -> dict[str, Any]:
    """``data`` as JSON will read it back: YAML's integer keys (``200:``) become strings."""
    try:
        result: dict[str, Any] = json.loads(json.dumps(data, ensure_ascii=False))
    except (TypeError, ValueError) as exc:
        # YAML can hold values JSON cannot (binary, sets, complex keys); a definition file cannot.
        raise InputError(f"{source}: the document holds a value JSON cannot represent ({exc})") from exc
    return result


def _first_line(message: str) -> str:
    return message.split("\n", 1)[0]
