"""Acceptance 1: the seed's tutorial from scratch in the browser, five tabs to a sentiment score."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from tests.portal.conftest import Portal
from tether import services
from tether.api import serve_in_thread

SENTIMENT_KEY = "portal-tutorial-key"


@pytest.fixture(scope="module")
def sentiment_host(portal: Portal) -> Iterator[str]:
    from tether.examples.sentiment.service import create_service

    # The example service runs on loopback, which the network policy refuses unless allowed.
    services.set_environment_settings(portal.db, portal.admin, "default", network_allow=["127.0.0.1"])
    with serve_in_thread(create_service(SENTIMENT_KEY)) as url:  # type: ignore[arg-type]
        yield url.removeprefix("http://")


def test_tutorial_from_scratch_in_the_browser(signed_in_page, portal: Portal, sentiment_host: str) -> None:
    page = signed_in_page
    page.goto("/e/default/connectors")
    page.get_by_role("link", name="New connector").click()

    # 1. General
    page.get_by_label("Connector name").fill("Sentiment Tutorial")
    page.get_by_label("Description").fill("Scores the sentiment of short texts.")
    page.get_by_label("Scheme").select_option("http")
    page.get_by_label("Host").fill(sentiment_host)
    page.get_by_label("Base URL").fill("/text/analytics/v2.1")
    page.get_by_role("button", name="Create connector").click()

    # 2. Security: an API key in the header the service reads
    page.wait_for_url(re.compile(r".*/edit/security$"))
    page.get_by_label("Authentication type").select_option("apiKey")
    page.get_by_label("Parameter label").fill("API Key")
    page.get_by_label("Parameter name").fill("Ocp-Apim-Subscription-Key")
    page.get_by_label("Parameter location").select_option("header")
    page.get_by_role("button", name="Save and stay").click()
    page.wait_for_url(re.compile(r".*/edit/security\?saved=1$"))
    page.get_by_role("link", name="Continue to Definition").click()

    # 3. Definition: one action whose request and response are made from samples
    page.get_by_label("Summary").fill("Detect sentiment")
    page.get_by_label("Operation ID").fill("Sentiment")
    page.get_by_label("Verb").select_option("POST")
    page.get_by_label("URL (with query)").fill(f"http://{sentiment_host}/text/analytics/v2.1/sentiment")
    page.get_by_label("Headers").fill("Content-Type: application/json")
    request = {"documents": [{"id": "1", "language": "en", "text": "I like it"}]}
    page.get_by_label("Body", exact=True).fill(json.dumps(request))
    page.get_by_label("Response body").fill(
        json.dumps({"documents": [{"id": "1", "score": 0.75}], "errors": []})
    )
    page.get_by_role("button", name="Import and add action").click()
    page.wait_for_url(re.compile(r".*/edit/definition\?op=Sentiment&saved=1$"))
    assert page.get_by_role("heading", name="POST /sentiment").is_visible()

    # 4. Code (nothing to add), then 5. Test
    page.get_by_role("link", name="Continue to Code").click()
    page.get_by_role("link", name="Continue to Test").click()
    page.get_by_label("API Key (required)").fill(SENTIMENT_KEY)
    page.get_by_role("button", name="Create connection").click()
    page.wait_for_url(re.compile(r".*/edit/test\?connection=.+"))
    page.get_by_label("documents / item / id").fill("1")
    page.get_by_label("documents / item / text").fill("What a wonderful, delightful day!")
    page.get_by_role("button", name="Test operation").click()

    assert page.get_by_test_id("status").inner_text() == "200"
    body = json.loads(page.get_by_test_id("body").inner_text())
    score = body["documents"][0]["score"]
    assert 0.5 < score <= 1.0 and re.fullmatch(r"[01]\.\d{1,3}", str(score)), body
    # The raw request is shown with the key masked; the key is nowhere on the page.
    sent = page.get_by_test_id("request").inner_text()
    assert sent.startswith(f"POST http://{sentiment_host}/text/analytics/v2.1/sentiment")
    assert "(+ the connection's credentials: ***)" in sent and "wonderful, delightful" in sent
    assert SENTIMENT_KEY not in page.content()
