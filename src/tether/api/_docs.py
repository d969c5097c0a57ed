"""The API's own docs page, served from the swagger-ui-bundle package (no CDN).

Self-hosted Tether often runs where the internet is not reachable, so the page loads its
scripts and styles from this server.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

__all__ = ["install_docs"]

STATIC_PREFIX = "/static/swagger-ui"


def install_docs(app: FastAPI, *, openapi_url: str, docs_url: str = "/docs") -> None:
    """Serve Swagger UI at ``docs_url`` for the document at ``openapi_url``."""
    app.mount(STATIC_PREFIX, StaticFiles(directory=swagger_ui_path), name="swagger-ui")

    @app.get(docs_url, include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} — API docs",
            swagger_js_url=f"{STATIC_PREFIX}/swagger-ui-bundle.js",
            swagger_css_url=f"{STATIC_PREFIX}/swagger-ui.css",
            swagger_favicon_url=f"{STATIC_PREFIX}/favicon-32x32.png",
        )
