"""Connector packages: the paconn folder layout, single definition files and zips.

A package is what Power Platform's ``paconn`` CLI works with: a folder holding
``apiDefinition.swagger.json``, ``apiProperties.json`` and optionally ``script.py``
(Tether's counterpart of ``script.csx``), ``icon.png`` and ``settings.json``. Tether keeps
the bytes of every file exactly as given, so storing and downloading a package never
reformats the user's source; parsed views are built from those bytes.
"""

from __future__ import annotations

import io
import json
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from tether.definition._document import Document, parse_document
from tether.definition._limits import MAX_PACKAGE_BYTES
from tether.errors import InputTooLarge, PackageError

__all__ = [
    "DEFINITION_FILE",
    "ICON_FILE",
    "PACKAGE_FILES",
    "PROPERTIES_FILE",
    "SCRIPT_FILE",
    "SETTINGS_FILE",
    "ConnectorPackage",
    "load_package",
    "package_from_files",
    "package_from_zip",
    "paconn_settings",
    "save_package",
]

DEFINITION_FILE = "apiDefinition.swagger.json"
PROPERTIES_FILE = "apiProperties.json"
SCRIPT_FILE = "script.py"
ICON_FILE = "icon.png"
SETTINGS_FILE = "settings.json"
# script.csx is kept byte for byte so a Power Platform package round-trips, though Tether runs script.py.
CSHARP_SCRIPT_FILE = "script.csx"
PACKAGE_FILES = (DEFINITION_FILE, PROPERTIES_FILE, SCRIPT_FILE, ICON_FILE, SETTINGS_FILE, CSHARP_SCRIPT_FILE)

# settings.json keys (paconn's names) that point at the package's files.
_SETTINGS_KEYS = {
    "apiDefinition": DEFINITION_FILE,
    "apiProperties": PROPERTIES_FILE,
    "script": SCRIPT_FILE,
    "icon": ICON_FILE,
}
_READ_CHUNK = 64 * 1024


@dataclass(eq=False)
class ConnectorPackage:
    """A connector package held in memory.

    ``files`` maps canonical paconn file names to the bytes given; ``definition`` and
    ``properties`` are the parsed documents; ``source`` names where it came from in
    messages (a folder, a file or an upload name).
    """

    files: dict[str, bytes]
    definition: Document
    properties: Document | None
    source: str
    warnings: list[str] = field(default_factory=list)

    @property
    def script(self) -> str | None:
        """The custom-code script's text, if the package has one."""
        raw = self.files.get(SCRIPT_FILE)
        return raw.decode("utf-8", errors="replace") if raw is not None else None

    @property
    def icon(self) -> bytes | None:
        return self.files.get(ICON_FILE)

    @property
    def settings(self) -> dict[str, Any] | None:
        """``settings.json`` as paconn writes it, or None."""
        raw = self.files.get(SETTINGS_FILE)
        if raw is None:
            return None
        value = parse_document(raw, name=f"{self.source}/{SETTINGS_FILE}", format="json").data
        return value if isinstance(value, dict) else None

    @property
    def title(self) -> str:
        """The API's title (``info.title``), the connector's display name."""
        data = self.definition.data
        info = data.get("info") if isinstance(data, dict) else None
        title = info.get("title") if isinstance(info, dict) else None
        return title.strip() if isinstance(title, str) and title.strip() else "Untitled connector"

    def replace(self, name: str, content: bytes) -> ConnectorPackage:
        """A copy with one file replaced (or added), re-parsed."""
        files = dict(self.files)
        files[name] = content
        return package_from_files(files, source=self.source)

    def to_zip(self) -> bytes:
        """The package as a zip archive with the paconn file names at its root."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in PACKAGE_FILES:
                if name in self.files:
                    archive.writestr(name, self.files[name])
        return buffer.getvalue()

    def semantically_equal(self, other: ConnectorPackage) -> bool:
        """True when both packages mean the same: same parsed JSON, same script and icon.

        Whitespace, byte-order marks and comments do not count; key order does not
        either (JSON objects are unordered), though Tether keeps it when saving.
        """
        if self.definition.data != other.definition.data:
            return False
        mine = self.properties.data if self.properties else None
        theirs = other.properties.data if other.properties else None
        if mine != theirs:
            return False
        return all(
            self.files.get(n) == other.files.get(n) for n in (SCRIPT_FILE, ICON_FILE, CSHARP_SCRIPT_FILE)
        )


def package_from_files(
    files: Mapping[str, bytes], *, source: str = "package", paths: Mapping[str, str] | None = None
) -> ConnectorPackage:
    """Build a package from paconn file names and their bytes.

    ``paths`` gives the real path of a file where it differs from ``source/name``, so that
    messages name the file the user can open.

    Raises:
        PackageError: the definition is missing.
        DocumentSyntaxError: a JSON file cannot be read even leniently.
    """
    unknown = sorted(set(files) - set(PACKAGE_FILES))
    if unknown:
        raise PackageError(
            f"{source}: unexpected file(s) {', '.join(unknown)}; a connector package holds "
            f"{', '.join(PACKAGE_FILES)}"
        )
    if DEFINITION_FILE not in files:
        raise PackageError(f"{source}: {DEFINITION_FILE} is missing; every connector needs an API definition")
    paths = paths or {}
    definition = parse_document(
        files[DEFINITION_FILE], name=paths.get(DEFINITION_FILE, f"{source}/{DEFINITION_FILE}")
    )
    properties = None
    if PROPERTIES_FILE in files:
        properties = parse_document(
            files[PROPERTIES_FILE],
            name=paths.get(PROPERTIES_FILE, f"{source}/{PROPERTIES_FILE}"),
            format="json",
        )
    warnings = [*definition.warnings, *(properties.warnings if properties else [])]
    if CSHARP_SCRIPT_FILE in files and SCRIPT_FILE not in files:
        warnings.append(
            f"{source}/{CSHARP_SCRIPT_FILE}: C# custom code is kept but not run; port it to {SCRIPT_FILE}"
        )
    return ConnectorPackage(
        files=dict(files), definition=definition, properties=properties, source=source, warnings=warnings
    )


def load_package(
    path: str | Path | None = None,
    *,
    api_definition: str | Path | None = None,
    api_properties: str | Path | None = None,
    icon: str | Path | None = None,
    script: str | Path | None = None,
    settings: str | Path | None = None,
) -> ConnectorPackage:
    """Load a package from a folder, a zip, a single definition file, or paconn-style paths.

    ``path`` may be a paconn folder, a ``.zip``, or one OpenAPI file (JSON or YAML). The
    keyword paths mirror paconn's ``--api-def``, ``--api-prop``, ``--icon``, ``--script``
    and ``--settings`` and override what the folder or settings file names.
    """
    chosen: dict[str, Path] = {}
    source = str(path) if path is not None else str(api_definition or settings or "package")
    if path is not None:
        path = Path(path)
        if path.is_dir():
            chosen.update(_files_in_folder(path))
        elif path.suffix.lower() == ".zip":
            return package_from_zip(_read(path), source=str(path))
        elif path.is_file():
            chosen[DEFINITION_FILE] = path
        else:
            raise PackageError(f"{path}: no such file or folder")
    if settings is not None or (SETTINGS_FILE in chosen and api_definition is None):
        settings_path = Path(settings) if settings is not None else chosen[SETTINGS_FILE]
        chosen[SETTINGS_FILE] = settings_path
        chosen.update(_files_named_in_settings(settings_path))
    for name, given in (
        (DEFINITION_FILE, api_definition),
        (PROPERTIES_FILE, api_properties),
        (ICON_FILE, icon),
        (SCRIPT_FILE, script),
    ):
        if given is not None:
            chosen[name] = Path(given)
    if DEFINITION_FILE not in chosen:
        raise PackageError(
            f"{source}: no API definition found; expected {DEFINITION_FILE} (or give one with --api-def)"
        )
    files = {name: _read(file) for name, file in chosen.items()}
    # Messages name the real paths, so "file:line" can be opened as printed.
    return package_from_files(files, source=source, paths={name: str(file) for name, file in chosen.items()})


def package_from_zip(content: bytes, *, source: str = "upload.zip") -> ConnectorPackage:
    """Read a zipped package; the files may sit at the root or inside one folder."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile as exc:
        raise PackageError(f"{source}: not a zip archive ({exc})") from exc
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir() and not _is_noise(m.filename)]
        if sum(m.file_size for m in members) > MAX_PACKAGE_BYTES:
            raise _too_large(source)
        by_name: dict[str, zipfile.ZipInfo] = {}
        for member in members:
            by_name[PurePosixPath(member.filename).name] = member
        files: dict[str, bytes] = {}
        for name, member in by_name.items():
            canonical = _canonical_name(name)
            if canonical is None:
                raise PackageError(
                    f"{source}: unexpected file {member.filename!r} in the archive; a connector package "
                    f"holds {', '.join(PACKAGE_FILES)}"
                )
            budget = MAX_PACKAGE_BYTES - sum(len(content) for content in files.values())
            files[canonical] = _read_member(archive, member, budget, source)
    return package_from_files(files, source=source)


def _read_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, budget: int, source: str) -> bytes:
    """Inflate one member, counting real bytes: a header's ``file_size`` is whatever the sender wrote.

    ``ZipFile.read`` trusts nothing either (it checks the CRC at the end), but only after
    inflating everything into memory; reading in chunks stops a lying member at the budget.
    """
    chunks: list[bytes] = []
    total = 0
    try:
        with archive.open(member) as stream:
            while chunk := stream.read(_READ_CHUNK):
                total += len(chunk)
                if total > budget:
                    raise _too_large(source)
                chunks.append(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        raise PackageError(f"{source}: {member.filename!r} in the archive is damaged ({exc})") from exc
    return b"".join(chunks)


def _too_large(source: str) -> InputTooLarge:
    return InputTooLarge(
        f"{source}: the archive unpacks to more than {MAX_PACKAGE_BYTES // 2**20} MiB, the most a "
        "connector package may hold; remove large files (icons, examples) or split the API",
        limit="MAX_PACKAGE_BYTES",
        value=MAX_PACKAGE_BYTES,
        file=source,
    )


def save_package(
    package: ConnectorPackage, folder: str | Path, *, settings: Mapping[str, Any] | None = None
) -> Path:
    """Write the package's files into ``folder`` (created if needed) and return it.

    Files are written as they were given; ``settings`` (paconn's settings.json keys)
    replaces settings.json when passed, keeping the keys paconn expects.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files = dict(package.files)
    if settings is not None:
        files[SETTINGS_FILE] = (json.dumps(dict(settings), indent=2) + "\n").encode()
    for name, content in files.items():
        target = folder / name
        temporary = target.with_name(target.name + ".tmp")
        # Write then rename, so an interrupted save never leaves a half-written file.
        temporary.write_bytes(content)
        temporary.replace(target)
    return folder


def paconn_settings(
    *, connector_id: str | None, environment: str | None, files: Mapping[str, bytes] | None = None
) -> dict[str, Any]:
    """settings.json content in paconn's shape, naming the files that are present."""
    present = files or {DEFINITION_FILE: b"", PROPERTIES_FILE: b""}
    settings: dict[str, Any] = {"connectorId": connector_id, "environment": environment}
    for key, name in _SETTINGS_KEYS.items():
        if name in present:
            settings[key] = name
    return settings


def _files_in_folder(folder: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    entries = sorted(p for p in folder.iterdir() if p.is_file())
    for entry in entries:
        canonical = _canonical_name(entry.name)
        if canonical is not None:
            found.setdefault(canonical, entry)
    if DEFINITION_FILE not in found:
        # The corpus has definitions named e.g. "CQC-Connector.swagger.json".
        swaggers = [p for p in entries if p.name.lower().endswith(".swagger.json")]
        if len(swaggers) == 1:
            found[DEFINITION_FILE] = swaggers[0]
    return found


def _files_named_in_settings(settings_path: Path) -> dict[str, Path]:
    data = parse_document(_read(settings_path), name=str(settings_path), format="json").data
    if not isinstance(data, dict):
        raise PackageError(f"{settings_path}: settings.json must be a JSON object")
    found = {}
    for key, canonical in _SETTINGS_KEYS.items():
        value = data.get(key)
        if isinstance(value, str) and value:
            candidate = (settings_path.parent / value).resolve()
            if canonical == SCRIPT_FILE and candidate.suffix.lower() == ".csx":
                canonical = CSHARP_SCRIPT_FILE
            if candidate.is_file():
                found[canonical] = candidate
            elif canonical == DEFINITION_FILE:
                raise PackageError(f"{settings_path}: {key} names {value!r}, which does not exist")
    return found


def _canonical_name(name: str) -> str | None:
    lowered = name.lower()
    for canonical in PACKAGE_FILES:
        if lowered == canonical.lower():
            return canonical
    return None


def _is_noise(filename: str) -> bool:
    parts = PurePosixPath(filename).parts
    return any(part.startswith(".") or part == "__MACOSX" for part in parts)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise PackageError(f"{path}: cannot read ({exc.strerror or exc})") from exc
