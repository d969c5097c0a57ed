"""``tether export powerplatform`` checks its own output before writing it.

Power Platform (and paconn) refuse a Swagger 2.0 definition that openapi-spec-validator
refuses, and some things real connectors carry are fine for Tether but not for them:
``4XX``-style response keys (OpenAPI 3 ranges), a ``required`` list naming a property
twice, and ``$ref``\\ s left inside ``x-`` extensions (Azure's ``x-ms-examples`` files).
Those are converted or removed, each reported; whatever still fails validation (except a
default value its schema refuses: certified connectors ship those and the portal takes
them, so they are warnings), and Microsoft's 1 MB / 256-operation limits (unless
allowed), make the export an error.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from tether.definition import DEFINITION_FILE, escape_pointer, package_from_files
from tether.errors import InputError
from tether.importers._result import ImportResult, dump_json
from tether.importers._validate import spec_problems

__all__ = [
    "MAX_DEFINITION_BYTES", "MAX_OPERATIONS", "ExportRefused", "check_export", "operation_count", "sanitize",
]  # fmt: skip

MAX_DEFINITION_BYTES = 1024 * 1024
MAX_OPERATIONS = 256
METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
_RANGE = re.compile(r"^[1-5]XX$", re.IGNORECASE)
_SHOWN_PROBLEMS = 5
_Log = Callable[[str, str], None]


class ExportRefused(InputError):
    """The exported package would not be accepted by Power Platform; nothing was written."""

    code = "export-refused"


def check_export(result: ImportResult, *, allow_oversize: bool = False) -> ImportResult:
    """``result`` with its definition sanitized and validated, or ``ExportRefused``.

    Raises:
        ExportRefused: still invalid after the repairs, or over Microsoft's limits without
            ``allow_oversize``; the message names the first problems and where they are.
    """
    data = result.package.definition.data
    fixes: list[tuple[str, str]] = []
    if sanitize(data, lambda where, message: fixes.append((where, message))):
        files = {**result.package.files, DEFINITION_FILE: dump_json(data)}
        result = ImportResult(package_from_files(files, source=result.package.source), result.report)
    for where, message in fixes:
        result.add("approximation", where, message)
    problems = []
    for problem in spec_problems(data):
        if problem.origin == "default" or _file_response(problem.pointer, problem.message):
            # Certified connectors ship defaults their enums refuse, and `type: file` responses
            # (Swagger 2.0 allows them; its JSON Schema does not): the portal takes both.
            result.add("warning", problem.pointer, problem.message.splitlines()[0])
        else:
            problems.append(problem)
    if problems:
        first = problems[:_SHOWN_PROBLEMS]
        shown = "; ".join(f"{p.pointer or '/'}: {p.message.splitlines()[0]}" for p in first)
        more = f" (and {len(problems) - len(first)} more)" if len(problems) > len(first) else ""
        raise ExportRefused(
            "the exported definition is not valid Swagger 2.0, so Power Platform would refuse it: "
            f"{shown}{more}. Repair the source (tether import openapi --fix) and export again",
            detail={"problems": [{"pointer": p.pointer, "message": p.message} for p in problems]},
        )
    for message in _over_limits(result, data):
        if not allow_oversize:
            raise ExportRefused(f"{message}; split it (--split N) or pass --allow-oversize to export anyway")
        result.add("warning", "", f"{message} (exported anyway: --allow-oversize)")
    return result


def _file_response(pointer: str, message: str) -> bool:
    return "/responses/" in pointer and pointer.endswith("/type") and message.startswith("'file' ")


def sanitize(data: dict[str, Any], log: _Log) -> bool:
    """Convert or remove what Power Platform refuses; ``log(pointer, message)`` per change."""
    changed = False
    for pointer, operation in _operations(data):
        changed |= _response_ranges(operation, pointer, log)
    for pointer, node in list(_walk(data, "")):
        required = node.get("required")
        if isinstance(required, list) and len(set(map(str, required))) < len(required):
            node["required"] = list(dict.fromkeys(required))
            log(f"{pointer}/required", "duplicate names removed from required")
            changed = True
        for key in [k for k in node if isinstance(k, str) and k.startswith("x-") and _has_ref(node[k])]:
            del node[key]
            where = f"{pointer}/{escape_pointer(key)}"
            log(where, f"{key} removed: it holds $refs Power Platform cannot resolve")
            changed = True
    return changed


def operation_count(data: dict[str, Any]) -> int:
    return sum(1 for _ in _operations(data))


def _operations(data: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    paths = data.get("paths")
    for path, item in paths.items() if isinstance(paths, dict) else []:
        for method in METHODS if isinstance(item, dict) else ():
            if isinstance(item.get(method), dict):
                yield f"/paths/{escape_pointer(path)}/{method}", item[method]


def _response_ranges(operation: dict[str, Any], pointer: str, log: _Log) -> bool:
    responses = operation.get("responses")
    if not isinstance(responses, dict):
        return False
    ranges = [code for code in responses if _RANGE.match(str(code))]
    for code in ranges:
        response = responses.pop(code)
        where = f"{pointer}/responses/{code}"
        if "default" not in responses and str(code)[0] in "45":
            responses["default"] = response
            log(where, f"response {code} became 'default' (Swagger 2.0 has no status ranges)")
        else:
            log(where, f"response {code} removed (Swagger 2.0 has no status ranges)")
    if not responses:
        responses["default"] = {"description": "Default response"}
    return bool(ranges)


def _walk(node: Any, pointer: str) -> Iterator[tuple[str, dict[str, Any]]]:
    stack = [(node, pointer)]
    while stack:
        value, where = stack.pop()
        if isinstance(value, dict):
            yield where, value
            stack.extend((v, f"{where}/{escape_pointer(str(k))}") for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, f"{where}/{i}") for i, v in enumerate(value))


def _has_ref(value: Any) -> bool:
    return any("$ref" in node for _, node in _walk(value, ""))


def _over_limits(result: ImportResult, data: dict[str, Any]) -> list[str]:
    messages = []
    size = len(result.package.files[DEFINITION_FILE])
    if size > MAX_DEFINITION_BYTES:
        messages.append(f"the definition is {size / 2**20:.1f} MB; Power Platform refuses more than 1 MB")
    count = operation_count(data)
    if count > MAX_OPERATIONS:
        messages.append(f"{count} operations; Power Platform allows at most {MAX_OPERATIONS} per connector")
    return messages
