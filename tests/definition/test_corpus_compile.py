"""Real documents compile: the Power Platform corpus, the OpenAPI 3 samples, Stripe, specs.

Skipped, saying why, when ``../shared`` is not beside the repository.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests._paths import CORPUS, SAMPLES, SPECS, need
from tether.definition import compile_api, load_package, parse_api_properties, read_document
from tether.definition.lint import lint_package
from tether.errors import DocumentSyntaxError

pytestmark = pytest.mark.corpus

STRIPE_BUDGET_SECONDS = 5.0


def _files(folder: Path, pattern: str) -> list[Path]:
    return sorted(need(folder).glob(pattern))


def test_every_readable_corpus_definition_compiles() -> None:
    compiled = unreadable = operations = 0
    for path in _files(CORPUS, "*/*/apiDefinition.swagger.json"):
        try:
            doc = read_document(path)
        except DocumentSyntaxError:
            unreadable += 1  # broken JSON: test_document.py pins these
            continue
        api = compile_api(doc.data, name=str(path))
        assert api.spec_version == "2.0"
        compiled += 1
        operations += len(api.operations)
    assert compiled == 1026 and unreadable == 8
    assert operations > 16_000


def test_every_readable_corpus_api_properties_parses_and_round_trips() -> None:
    parsed = 0
    providers = set()
    for path in _files(CORPUS, "*/*/apiProperties.json"):
        try:
            doc = read_document(path)
        except DocumentSyntaxError:
            continue
        model = parse_api_properties(doc.data, name=str(path))
        assert model.model_dump(by_alias=True, exclude_unset=True) == doc.data, path
        settings = model.properties.oauth_settings()
        if settings is not None:
            providers.add(settings.identity_provider)
            assert settings.redirect_mode in (None, "Global", "GlobalPerConnector", "Direct"), path
        parsed += 1
    assert parsed == 1031
    assert {"oauth2", "aad", "oauth2generic", "aadcertificate"} <= providers


@pytest.mark.parametrize(
    "relative",
    [
        "openapi3/adyen-binlookup-v54.json",
        "openapi3/clever-data-api.yaml",
        "openapi3/spotify-web-api.yaml",
        "openapi3/twilio-verify-v2.json",
        "openapi3/uspto.json",
        "openapi3/xero-accounting.yaml",
        "openapi3/xero-identity.yaml",
        "swagger2/nytimes-books.json",
        "swagger2/oai-petstore.json",
        "swagger2/slack-web-api.json",
        "swagger2/swagger-petstore-full.json",
    ],
)
def test_samples_compile(relative: str) -> None:
    path = need(SAMPLES / relative)
    api = compile_api(read_document(path).data, name=relative)
    assert api.operations and api.title
    assert all(op.operation_id for op in api.operations)


@pytest.mark.parametrize("relative", ["etcd/rpc.swagger.json", "httpbin/spec.json"])
def test_specs_compile(relative: str) -> None:
    path = need(SPECS / relative)
    api = compile_api(read_document(path).data, name=relative)
    assert api.operations
    assert len(api.operations_by_id) == len(api.operations)  # generated ids are unique


def test_stripe_reads_compiles_and_lints_quickly() -> None:
    path = need(SAMPLES / "openapi3" / "stripe.yaml")
    # CPU time of this process: the budget is about Tether's work, not about what else the
    # machine (or the other test worker) is doing meanwhile.
    start = time.process_time()
    package = load_package(path)
    api = compile_api(package.definition.data, name="stripe.yaml")
    findings = lint_package(package)
    elapsed = time.process_time() - start
    assert len(api.operations) > 400
    assert not [f for f in findings if f.rule == "internal/rule-crashed"]
    assert elapsed < STRIPE_BUDGET_SECONDS, f"stripe.yaml took {elapsed:.2f}s of CPU"
