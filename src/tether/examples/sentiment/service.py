"""A small, real sentiment-analysis service in the shape of Text Analytics' Sentiment operation.

``POST /text/analytics/v2.1/sentiment`` takes ``{"documents": [{"id", "language", "text"}]}``
and answers a score from 0.000 (negative) to 1.000 (positive) per document, computed with
VADER (a maintained lexicon model shipped in its PyPI package; nothing is downloaded). The
caller must send the API key in ``Ocp-Apim-Subscription-Key``, as Azure's service requires.
"""

from __future__ import annotations

import secrets
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tether._extras import require_extra

require_extra("vaderSentiment", extra="demo", feature="The tutorial's sample sentiment service")
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer  # noqa: E402

__all__ = ["API_KEY_HEADER", "create_service", "score"]

API_KEY_HEADER = "Ocp-Apim-Subscription-Key"
MAX_DOCUMENTS = 1000
MAX_TEXT_CHARACTERS = 5120  # Text Analytics' per-document limit

_analyzer = SentimentIntensityAnalyzer()


def score(text: str) -> float:
    """VADER's compound score (-1…1) mapped to Text Analytics' 0…1 scale, 3 decimals."""
    compound = _analyzer.polarity_scores(text)["compound"]
    return round((float(compound) + 1) / 2, 3)


def create_service(api_key: str) -> Starlette:
    """The service as an ASGI app that accepts only ``api_key``."""

    async def sentiment(request: Request) -> JSONResponse:
        if not secrets.compare_digest(request.headers.get(API_KEY_HEADER, ""), api_key):
            return _error(401, "Unauthorized", f"Access denied due to a missing or invalid {API_KEY_HEADER}.")
        try:
            payload: Any = await request.json()
        except ValueError:
            return _error(400, "InvalidRequestBody", "The body must be JSON.")
        documents = payload.get("documents") if isinstance(payload, dict) else None
        if not isinstance(documents, list) or not documents:
            return _error(400, "InvalidRequestBody", "Send a non-empty 'documents' array.")
        if len(documents) > MAX_DOCUMENTS:
            return _error(400, "InvalidRequestBody", f"At most {MAX_DOCUMENTS} documents per request.")
        scored, errors = [], []
        for document in documents:
            doc_id = str(document.get("id", "")) if isinstance(document, dict) else ""
            text = document.get("text") if isinstance(document, dict) else None
            if not doc_id or not isinstance(text, str) or not text.strip():
                errors.append(
                    {"id": doc_id, "message": "Each document needs an 'id' and a non-empty 'text'."}
                )
            elif len(text) > MAX_TEXT_CHARACTERS:
                errors.append(
                    {"id": doc_id, "message": f"Text longer than {MAX_TEXT_CHARACTERS} characters."}
                )
            else:
                scored.append({"id": doc_id, "score": score(text)})
        return JSONResponse({"documents": scored, "errors": errors})

    return Starlette(routes=[Route("/text/analytics/v2.1/sentiment", sentiment, methods=["POST"])])


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)
