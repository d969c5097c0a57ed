"""The automatic checks a connector revision must pass before a certifier sees it.

The linter's certification profile (Microsoft's published content rules) plus the packaging
rules of a certified connector: a square PNG icon of at most 1 MB with a brand colour that is not
(nearly) white, a readme, contact and privacy-policy metadata, descriptions and summaries on every
operation and parameter and a schema on every successful response (the linter reports the last
three as warnings for everyday custom connectors; certification makes them blocking), and a
test connection that answers. Pure: the connection test's outcome is passed in.

Every finding names its rule and where it is (file and JSON pointer), so a refused submission
says exactly what to fix.
"""

from __future__ import annotations

import re
import struct
from typing import Any, Final

from tether.definition import DEFINITION_FILE, ICON_FILE, PROPERTIES_FILE, ConnectorPackage
from tether.definition.lint import Finding, lint_package

__all__ = [
    "MAX_ICON_BYTES",
    "MIN_README_CHARACTERS",
    "PROMOTED_RULES",
    "README_FILE",
    "blocking",
    "packaging_findings",
    "run_checks",
]

MAX_ICON_BYTES: Final = 1024 * 1024
MIN_README_CHARACTERS: Final = 30
# The readme is submitted with the request (Power Platform's certification repo keeps one per folder).
README_FILE: Final = "readme.md"
# Linter warnings that certification requires: documentation a catalog user depends on.
PROMOTED_RULES: Final = frozenset(
    {
        "certification/parameter-description-missing",
        "certification/response-schema-missing",
    }
)
_PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
_HEX6: Final = re.compile(r"^#[0-9a-fA-F]{6}$")
_NEAR_WHITE: Final = 0xF0  # every channel at least this: white on a white page
_PRIVACY_NAMES: Final = frozenset({"privacy policy", "privacypolicy", "privacy"})


def _finding(rule: str, message: str, file: str, pointer: str = "") -> Finding:
    return Finding(rule=rule, severity="error", message=message, file=file, pointer=pointer)


def run_checks(package: ConnectorPackage, readme: str | None) -> list[Finding]:
    """Every finding of the certification profile and the packaging rules, blocking ones first."""
    findings = [
        Finding(f.rule, "error", f.message, f.file, f.pointer, f.line) if f.rule in PROMOTED_RULES else f
        for f in lint_package(package, profile="certification")
    ]
    findings += packaging_findings(package, readme)
    return sorted(findings, key=lambda f: (f.severity != "error", f.file, f.pointer, f.rule))


def blocking(findings: list[Finding]) -> list[Finding]:
    """The findings that refuse a submission (errors)."""
    return [finding for finding in findings if finding.severity == "error"]


def packaging_findings(package: ConnectorPackage, readme: str | None) -> list[Finding]:
    """The packaging rules (icon, brand colour, readme, contact, privacy policy)."""
    findings = _icon_findings(package.icon)
    properties = package.properties.data if package.properties is not None else None
    inner = properties.get("properties") if isinstance(properties, dict) else None
    colour = inner.get("iconBrandColor") if isinstance(inner, dict) else None
    if _near_white(colour):
        findings.append(
            _finding(
                "packaging/brand-color-white",
                f"iconBrandColor {colour!r} is (nearly) white, which the icon disappears on; use your "
                "brand's colour",
                PROPERTIES_FILE,
                "/properties/iconBrandColor",
            )
        )
    if readme is None or len(readme.strip()) < MIN_README_CHARACTERS:
        findings.append(
            _finding(
                "packaging/readme-missing",
                f"submit a {README_FILE} of at least {MIN_README_CHARACTERS} characters: what the service "
                "does, prerequisites, how to get credentials, known issues",
                README_FILE,
            )
        )
    findings += _metadata_findings(package.definition.data)
    return findings


def _near_white(colour: Any) -> bool:
    """Whether a valid ``#rrggbb`` colour is nearly white (the linter reports missing, invalid and
    exactly #ffffff colours itself)."""
    if not isinstance(colour, str) or not _HEX6.match(colour.strip()) or colour.strip().lower() == "#ffffff":
        return False
    channels = bytes.fromhex(colour.strip()[1:])
    return min(channels) >= _NEAR_WHITE


def _icon_findings(icon: bytes | None) -> list[Finding]:
    if icon is None:
        return [_finding("packaging/icon-missing", "add icon.png: a square PNG of at most 1 MB", ICON_FILE)]
    found: list[Finding] = []
    if len(icon) > MAX_ICON_BYTES:
        found.append(
            _finding(
                "packaging/icon-too-large",
                f"icon.png has {len(icon)} bytes; certified icons are at most {MAX_ICON_BYTES} bytes",
                ICON_FILE,
            )
        )
    size = _png_size(icon)
    if size is None:
        found.append(
            _finding("packaging/icon-not-png", "icon.png is not a PNG image; save it as PNG", ICON_FILE)
        )
    elif size[0] != size[1]:
        found.append(
            _finding(
                "packaging/icon-not-square",
                f"icon.png is {size[0]}x{size[1]} pixels; make it square (e.g. 230x230)",
                ICON_FILE,
            )
        )
    return found


def _png_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a PNG's IHDR chunk (the first chunk, by the PNG specification)."""
    if len(data) < 24 or not data.startswith(_PNG_SIGNATURE) or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def _metadata_findings(definition: Any) -> list[Finding]:
    data = definition if isinstance(definition, dict) else {}
    info = data.get("info") if isinstance(data.get("info"), dict) else {}
    contact = info.get("contact") if isinstance(info, dict) else None
    found: list[Finding] = []
    has_contact = (
        isinstance(contact, dict)
        and _text(contact.get("name"))
        and (_text(contact.get("email")) or _text(contact.get("url")))
    )
    if not has_contact:
        found.append(
            _finding(
                "packaging/contact-missing",
                "add info.contact with a name and an email or url, where users get support",
                DEFINITION_FILE,
                "/info/contact" if contact is not None else "/info",
            )
        )
    metadata = data.get("x-ms-connector-metadata")
    entries = metadata if isinstance(metadata, list) else []
    privacy = [
        entry
        for entry in entries
        if isinstance(entry, dict)
        and str(entry.get("propertyName", "")).strip().lower() in _PRIVACY_NAMES
        and _text(entry.get("propertyValue"))
    ]
    if not privacy:
        found.append(
            _finding(
                "packaging/privacy-policy-missing",
                'add {"propertyName": "Privacy policy", "propertyValue": "https://…"} to '
                "x-ms-connector-metadata",
                DEFINITION_FILE,
                "/x-ms-connector-metadata" if metadata is not None else "",
            )
        )
    return found


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())
