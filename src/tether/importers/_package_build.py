"""Turning a generated definition into a connector package (shared by the generating importers).

WSDL, cURL and sample imports all produce a Swagger 2.0 definition from nothing; they share
the apiProperties they start from and the way the files are serialised, so every generated
package looks alike and passes the linter's error rules.
"""

from __future__ import annotations

import re
from typing import Any

from tether.definition import DEFINITION_FILE, PROPERTIES_FILE, ConnectorPackage, package_from_files
from tether.importers._result import dump_json

__all__ = ["DEFAULT_BRAND_COLOR", "build_package", "default_properties", "operation_id", "title_words"]

# The colour Microsoft asks independent publishers to use (REFERENCE.md §8).
DEFAULT_BRAND_COLOR = "#da3b01"


def default_properties(connection_parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    """apiProperties.json content for a generated connector."""
    return {
        "properties": {
            "connectionParameters": connection_parameters or {},
            "iconBrandColor": DEFAULT_BRAND_COLOR,
            "capabilities": [],
        }
    }


def build_package(definition: dict[str, Any], properties: dict[str, Any], *, source: str) -> ConnectorPackage:
    """A package holding ``definition`` and ``properties`` as Tether writes JSON."""
    files = {DEFINITION_FILE: dump_json(definition), PROPERTIES_FILE: dump_json(properties)}
    return package_from_files(files, source=source)


def operation_id(*words: str, taken: set[str] | None = None) -> str:
    """A valid, unique operationId from words: ``("get", "/v1/items/{id}")`` ⇒ ``GetV1ItemsId``.

    ``taken`` is updated with the chosen id; a clash gets a number suffix.
    """
    parts = [p for word in words for p in re.split(r"[^0-9A-Za-z]+", word) if p]
    candidate = "".join(p[:1].upper() + p[1:] for p in parts) or "Operation"
    if candidate[0].isdigit():
        candidate = "Op" + candidate
    chosen, counter = candidate, 1
    while taken is not None and chosen in taken:
        counter += 1
        chosen = f"{candidate}{counter}"
    if taken is not None:
        taken.add(chosen)
    return chosen


def title_words(name: str) -> str:
    """``FullCountryInfo`` ⇒ ``Full Country Info``: a display summary from an identifier."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", name)
    return re.sub(r"[_\s]+", " ", spaced).strip() or name
