"""What every importer returns: a package plus a report of what it had to approximate.

Importers never write half a package: they build everything in memory, and
:func:`write_package` writes into a temporary sibling folder and renames it into place, so
a failure leaves nothing behind and an existing folder is replaced whole or not at all.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from tether.definition import ConnectorPackage, save_package
from tether.errors import InputError

__all__ = ["ImportResult", "ReportItem", "dump_json", "write_package"]

ReportKind = Literal["warning", "approximation", "fix", "unsupported", "info"]


@dataclass(frozen=True)
class ReportItem:
    """One thing the user should know about an import.

    ``kind``: ``warning`` (a problem in the source kept as written), ``approximation``
    (represented differently than in the source), ``fix`` (a mechanical repair done by
    ``--fix``), ``unsupported`` (dropped; nothing invented instead), ``info``.
    ``where`` locates it in the *source* (a JSON pointer, a Postman item path, an XML
    element...); ``message`` says what and, where it helps, how to fix it.
    """

    kind: ReportKind
    where: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "where": self.where, "message": self.message}

    def __str__(self) -> str:
        return f"{self.kind}: {self.where or '/'}: {self.message}"


@dataclass
class ImportResult:
    """A connector package built in memory and the report of how it was made."""

    package: ConnectorPackage
    report: list[ReportItem] = field(default_factory=list)

    def add(self, kind: ReportKind, where: str, message: str) -> None:
        self.report.append(ReportItem(kind, where, message))

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.package.title,
            "files": sorted(self.package.files),
            "report": [item.to_dict() for item in self.report],
        }


def dump_json(value: Any) -> bytes:
    """JSON as Tether writes generated files: indented, UTF-8, key order kept, final newline."""
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def write_package(package: ConnectorPackage, out: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``package`` to the folder ``out`` atomically.

    Raises:
        InputError: ``out`` exists and is not empty, and ``overwrite`` is false.
    """
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise InputError(f"{out} already exists and is not empty; choose another --out or pass --overwrite")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        save_package(package, staging)
        if out.exists():
            backup = out.with_name(f".{out.name}.old")
            out.rename(backup)
            staging.rename(out)
            shutil.rmtree(backup, ignore_errors=True)
        else:
            staging.rename(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out
