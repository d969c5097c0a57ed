"""Importers: OpenAPI, Postman, WSDL, cURL and samples in; Power Platform's format out.

Pure like :mod:`tether.definition` (no database, no network): each importer turns a source
document into an in-memory :class:`~tether.definition.ConnectorPackage` plus a report, and
nothing is written until the caller asks (:func:`write_package`, atomic).
"""

from tether.importers._result import ImportResult, ReportItem, dump_json, write_package

__all__ = ["ImportResult", "ReportItem", "dump_json", "write_package"]
