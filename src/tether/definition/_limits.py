"""Every limit that bounds the work a hostile upload can cause, in one place.

Connector files come from strangers: a 400-byte YAML alias bomb expands to billions of
nodes, 100k opening brackets overflow every recursive walker, a zip header can lie about
its size. Each limit below is far above what real connectors need (the 1,034 connectors of
the Power Platform corpus nest at most 28 levels deep, use no YAML aliases and are at most
a few MiB) and far below what hurts the server. Hitting one is a ``LimitExceeded`` (HTTP
400) or ``InputTooLarge`` (HTTP 413) naming the limit; the README lists the values.
"""

from __future__ import annotations

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "MAX_NESTING_DEPTH",
    "MAX_PACKAGE_BYTES",
    "MAX_UPLOAD_BYTES",
    "MAX_YAML_ALIAS_NODES",
    "PARSE_MEMORY_BYTES",
    "PARSE_TIMEOUT_SECONDS",
]

MiB = 1024 * 1024

# One JSON, YAML or XML file (a definition, apiProperties, a WSDL, a Postman collection).
MAX_DOCUMENT_BYTES = 32 * MiB
# A request body on the upload, import and validate routes (checked before it is read).
MAX_UPLOAD_BYTES = 48 * MiB
# All files of a package together, counted while a zip is inflated (headers can lie).
MAX_PACKAGE_BYTES = 64 * MiB
# Containers inside containers: JSON arrays/objects, YAML collections, XML elements.
MAX_NESTING_DEPTH = 128
# Nodes a YAML document may gain through aliases (``*name``) beyond the nodes it writes.
MAX_YAML_ALIAS_NODES = 100_000
# Wall-clock time and extra address space of the worker that reads one upload for the API.
PARSE_TIMEOUT_SECONDS = 30.0
PARSE_MEMORY_BYTES = 1024 * MiB
