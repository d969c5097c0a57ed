"""Exporting a connector package in the format Power Platform and ``paconn`` accept.

Power Platform imports Swagger 2.0 only, with a 1 MB definition and 256 operations at most.
A Swagger 2.0 package is passed through byte for byte; an OpenAPI 3.x one is rewritten
(``_downgrade``). The result's report is the loss report: its ``approximation`` and
``unsupported`` items (see :func:`lost`) are non-empty exactly when something was lost;
Microsoft's limits come as ``warning`` items, because the definition itself is intact.
"""

from __future__ import annotations

from typing import Any

from tether.definition import DEFINITION_FILE, PROPERTIES_FILE, ConnectorPackage, package_from_files
from tether.errors import InputError
from tether.importers._downgrade import downgrade
from tether.importers._export_checks import MAX_DEFINITION_BYTES, MAX_OPERATIONS, check_export
from tether.importers._openapi import properties_for
from tether.importers._result import ImportResult, ReportItem, dump_json
from tether.importers._validate import spec_version

__all__ = ["MAX_DEFINITION_BYTES", "MAX_OPERATIONS", "export_powerplatform", "lost"]

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")


def export_powerplatform(
    package: ConnectorPackage, *, strict: bool = False, allow_oversize: bool = False
) -> ImportResult:
    """A copy of ``package`` that ``paconn create`` and the Power Platform portal accept.

    With ``strict`` (what ``tether export powerplatform`` uses) the output is checked as
    Power Platform would: what it refuses is converted or removed and reported, and an
    export that is still invalid, or over the 1 MB / 256-operation limits without
    ``allow_oversize``, raises instead of returning something the portal would reject.

    Raises:
        InputError: the package's definition is not Swagger 2.0 or OpenAPI 3.0/3.1; with
            ``strict``, ``ExportRefused`` as above.
    """
    data = package.definition.data
    version = spec_version(data)
    if version is None:
        raise InputError(
            f"{package.source}: the definition is not Swagger 2.0 or OpenAPI 3.0/3.1; nothing to export"
        )
    notes: list[tuple[str, str, str]] = []
    if version == "2.0":
        result = ImportResult(package_from_files(dict(package.files), source=package.source))
        converted: dict[str, Any] = data
    else:
        converted = downgrade(data, lambda kind, where, message: notes.append((kind, where, message)))
        files = dict(package.files)
        files[DEFINITION_FILE] = dump_json(converted)
        if PROPERTIES_FILE not in files:
            files[PROPERTIES_FILE] = dump_json(properties_for(data, report=notes))
        result = ImportResult(package_from_files(files, source=package.source))
    for kind, where, message in notes:
        result.add(kind, where, message)  # type: ignore[arg-type]
    if strict:
        return check_export(result, allow_oversize=allow_oversize)
    _check_limits(result, converted)
    return result


def lost(result: ImportResult) -> list[ReportItem]:
    """The report items saying something was approximated or dropped (the loss report)."""
    return [item for item in result.report if item.kind in ("approximation", "unsupported")]


def _check_limits(result: ImportResult, data: dict[str, Any]) -> None:
    size = len(result.package.files[DEFINITION_FILE])
    if size > MAX_DEFINITION_BYTES:
        result.add(
            "warning",
            "",
            f"the definition is {size / 2**20:.1f} MB; Power Platform refuses definitions over 1 MB "
            "(Tether has no such limit): split the connector or trim descriptions",
        )
    paths = data.get("paths")
    count = sum(
        1
        for item in (paths.values() if isinstance(paths, dict) else [])
        if isinstance(item, dict)
        for method in _METHODS
        if isinstance(item.get(method), dict)
    )
    if count > MAX_OPERATIONS:
        result.add(
            "warning",
            "/paths",
            f"{count} operations; Power Platform allows at most {MAX_OPERATIONS} per connector "
            "(Tether has no such limit): split the connector",
        )
