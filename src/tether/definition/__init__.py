"""Connector packages and API definitions: load, compile to the IR, lint, save.

Pure: nothing here touches a database or the network, so the CLI can validate offline and
every other layer can rely on the same model.
"""

from tether.definition._document import Document, escape_pointer, parse_document, read_document
from tether.definition._package import (
    DEFINITION_FILE,
    ICON_FILE,
    PACKAGE_FILES,
    PROPERTIES_FILE,
    SCRIPT_FILE,
    SETTINGS_FILE,
    ConnectorPackage,
    load_package,
    package_from_files,
    package_from_zip,
    paconn_settings,
    save_package,
)

__all__ = [
    "DEFINITION_FILE",
    "ICON_FILE",
    "PACKAGE_FILES",
    "PROPERTIES_FILE",
    "SCRIPT_FILE",
    "SETTINGS_FILE",
    "ConnectorPackage",
    "Document",
    "escape_pointer",
    "load_package",
    "package_from_files",
    "package_from_zip",
    "paconn_settings",
    "parse_document",
    "read_document",
    "save_package",
]
