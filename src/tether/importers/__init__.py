"""Importers: OpenAPI, Postman, WSDL, cURL and samples in; Power Platform's format out.

Pure like :mod:`tether.definition` (no database, no network): each importer turns a source
document into an in-memory :class:`~tether.definition.ConnectorPackage` plus a report, and
nothing is written until the caller asks (:func:`write_package`, atomic).
"""

from tether.importers._export import export_powerplatform, lost
from tether.importers._export_checks import ExportRefused
from tether.importers._export_split import split_by_tag
from tether.importers._openapi import import_openapi
from tether.importers._result import ImportResult, ReportItem, dump_json, write_package
from tether.importers.curl import import_curl
from tether.importers.postman import import_postman
from tether.importers.sample import import_sample
from tether.importers.wsdl import WSDL_MODES, import_wsdl

__all__ = [
    "WSDL_MODES",
    "ExportRefused",
    "ImportResult",
    "ReportItem",
    "dump_json",
    "export_powerplatform",
    "import_curl",
    "import_openapi",
    "import_postman",
    "import_sample",
    "import_wsdl",
    "lost",
    "split_by_tag",
    "write_package",
]
