"""A small local service answering the operations three real corpus connectors call for dynamic inputs.

Flotiq (content types, ``x-ms-dynamic-values`` with a collection and ``x-ms-dynamic-properties``
with literal and referenced arguments), Power Form 7 (lists that are the answer itself, a header
argument referenced by another input, a multipart body's dynamic schema) and ProcessStreet
(``x-ms-dynamic-list`` with a ``body/…`` reference, a dynamic schema nested in a body) and
Ticketing.events (one dynamic schema for both the body and the answer, a key in the query). Each
answers in the shape its connector's definition declares; every request is counted by path so
tests can see what the cache spared. Keys are checked as the real APIs would.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tether.definition import DEFINITION_FILE, load_package, package_from_files

CORPUS = Path(__file__).parents[2] / ".." / "shared" / "corpus" / "powerplatform" / "certified-connectors"
FLOTIQ_KEY = "flotiq-key-5c1e"
PF7_KEY = "pf7-license-77"
PROCESS_STREET_KEY = "ps-key-0a9"
TICKETING_KEY = "te-key-42"
HITS: Counter[str] = Counter()

BLOG_SCHEMA = {
    "type": "object",
    "required": ["title"],
    "properties": {
        "title": {"type": "string", "x-ms-summary": "Title"},
        "slug": {"type": "string", "description": "URL part"},
    },
}
FORM_SCHEMA = {
    "type": "object",
    "properties": {
        "your-name": {"type": "string", "x-ms-summary": "Your name"},
        "your-email": {"type": "string"},
    },
}
FIELDS_SCHEMA = {"type": "object", "properties": {"Department": {"type": "string", "enum": ["Sales", "IT"]}}}


def _refused(request: Request, header: str, key: str) -> JSONResponse | None:
    HITS[request.url.path] += 1
    if request.headers.get(header) != key:
        return JSONResponse({"message": "bad key"}, status_code=401)
    return None


async def flotiq_types(request: Request) -> JSONResponse:
    refused = _refused(request, "X-AUTH-TOKEN", FLOTIQ_KEY)
    return refused or JSONResponse(
        {
            "total_count": 2,
            "data": [{"name": "blogpost", "label": "Blog post"}, {"name": "product", "label": "Product"}],
        }
    )


async def flotiq_type(request: Request) -> JSONResponse:
    refused = _refused(request, "X-AUTH-TOKEN", FLOTIQ_KEY)
    if refused:
        return refused
    if request.path_params["ctd"] != "blogpost":
        return JSONResponse({"message": "Content type not found"}, status_code=404)
    query = dict(request.query_params)
    if query != {"resolveRef": "true", "strictSchema": "true"}:  # the definition's literal arguments
        return JSONResponse({"message": f"unexpected query {query}"}, status_code=400)
    return JSONResponse({"name": "blogpost", "schema": BLOG_SCHEMA})


async def pf7_domains(request: Request) -> JSONResponse:
    refused = _refused(request, "License-Authorization", PF7_KEY)
    return refused or JSONResponse([{"name": "example.org", "id": 1}, {"name": "shop.example", "id": 2}])


async def pf7_forms(request: Request) -> JSONResponse:
    refused = _refused(request, "License-Authorization", PF7_KEY)
    if refused:
        return refused
    site = request.headers.get("WP_SITEURL")
    forms = {"example.org": [{"id": 11, "slug": "contact", "title": "Contact", "locale": "en"}]}
    return JSONResponse(forms.get(site or "", []))


async def pf7_form(request: Request) -> JSONResponse:
    refused = _refused(request, "License-Authorization", PF7_KEY)
    if refused:
        return refused
    if request.headers.get("WP_SITEURL") != "example.org" or request.path_params["form"] != "11":
        return JSONResponse({"message": "no such form"}, status_code=404)
    return JSONResponse({"schema": FORM_SCHEMA})


async def ps_workflows(request: Request) -> JSONResponse:
    refused = _refused(request, "x-api-key", PROCESS_STREET_KEY)
    return refused or JSONResponse(
        {"workflows": [{"id": "w1", "name": "Onboarding"}, {"id": "w2", "name": "Audit"}]}
    )


async def ps_tasks(request: Request) -> JSONResponse:
    refused = _refused(request, "x-api-key", PROCESS_STREET_KEY)
    if refused:
        return refused
    if request.path_params["wid"] == "broken":  # an answer without the declared 'tasks'
        return JSONResponse({"results": [{"id": "t9"}]})
    return JSONResponse(
        {"tasks": [{"id": "t1", "name": "Sign contract"}, {"id": "t2", "name": "Get laptop"}]}
    )


async def ps_fields(request: Request) -> JSONResponse:
    refused = _refused(request, "x-api-key", PROCESS_STREET_KEY)
    return refused or JSONResponse({"Schema": FIELDS_SCHEMA})


ATTENDEE_SCHEMA = {"type": "object", "properties": {"email": {"type": "string", "x-ms-summary": "Email"}}}


async def ticketing_events(request: Request) -> JSONResponse:
    HITS[request.url.path] += 1
    if request.query_params.get("api_key") != TICKETING_KEY:
        return JSONResponse({"message": "bad key"}, status_code=401)
    return JSONResponse([{"id": 7, "name": "Summer fest"}, {"id": 8, "name": "Winter gala"}])


async def ticketing_schema(request: Request) -> JSONResponse:
    HITS[request.url.path] += 1
    if request.query_params.get("api_key") != TICKETING_KEY:
        return JSONResponse({"message": "bad key"}, status_code=401)
    return JSONResponse({"items": ATTENDEE_SCHEMA})


def dynamic_app() -> Starlette:
    return Starlette(
        routes=[
            Route("/api/v1/internal/contenttype", flotiq_types),
            Route("/api/v1/internal/contenttype/{ctd}", flotiq_type),
            Route("/pf7/domains", pf7_domains),
            Route("/pf7/proxy/contact-form-7/v1/contact-forms", pf7_forms),
            Route("/pf7/proxy/power-form-7/v1/forms/{form}", pf7_form),
            Route("/power-automate/v1.1/workflows", ps_workflows),
            Route("/power-automate/v1.1/workflows/{wid}/tasks", ps_tasks),
            Route("/power-automate/v1.1/dynamic-schemas/workflows/{wid}/form-fields", ps_fields),
            Route("/app/flow/events", ticketing_events),
            Route("/app/flow/schema/{list}", ticketing_schema),
        ]
    )


def corpus_package(name: str, host: str) -> Any:
    """The corpus connector ``name`` as it is, but for its host: the local service (plain HTTP)."""
    files = dict(load_package(CORPUS / name).files)
    definition = json.loads(files[DEFINITION_FILE].decode("utf-8-sig"))
    definition["host"], definition["schemes"] = host, ["http"]
    files[DEFINITION_FILE] = json.dumps(definition).encode()
    return package_from_files(files)
