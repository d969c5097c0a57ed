"""The HTTP API (FastAPI). Thin: it parses requests, calls :mod:`tether.services` (where
every permission is checked) and renders answers; errors are RFC 9457 problem+json."""

from tether.api._app import API_PREFIX, create_app
from tether.api._connector_runner import app_connector_runner
from tether.api._server import free_port, serve_in_thread
from tether.api._workers import check_port_free, serve_workers

__all__ = [
    "API_PREFIX",
    "app_connector_runner",
    "check_port_free",
    "create_app",
    "free_port",
    "serve_in_thread",
    "serve_workers",
]
