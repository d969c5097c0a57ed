"""schemathesis (pinned in the dev extra) fuzzes a real server against its own OpenAPI document.

Every operation, with an admin's token, through uvicorn on a free port: no answer may be a 5xx,
carry a status or media type the document does not list, or break its documented schema or
headers. Budget: the examples, coverage and fuzzing phases with 3 examples per operation, cut at
30 s by schemathesis itself (``--max-time``; ~25 s suffice on an idle 2-core machine).

Checks left out, and why: ``positive_data_acceptance`` (the services refuse schema-valid input
that breaks a rule, e.g. an unknown connector, with a documented 400/404/422),
``negative_data_rejection`` (a lenient parse is not a defect), ``unsupported_method`` and
``allow_header_conformance`` (a Request trigger answers every method its definition declares,
documented once under POST; ``/connectors/import`` is also ``/connectors/{connector}``, so its
``Allow`` truthfully names GET, PUT and DELETE too), and the
stateful checks that need chains of real resources (covered by the API tests).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tether import services
from tether.api import create_app, serve_in_thread
from tether.config import load_settings
from tether.store import Database

ADMIN_PASSWORD = "schemathesis admin password"
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_headers_conformance,response_schema_conformance"
)
BUDGET_S = 30  # schemathesis stops there; a busy CI machine gets fewer cases, never a longer run


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, _sqlite_template: Path) -> Iterator[tuple[str, str]]:
    """A real server on a migrated SQLite database, and an admin token for it."""
    home = tmp_path_factory.mktemp("schemathesis")
    path = home / "tether.db"
    path.write_bytes(_sqlite_template.read_bytes())
    url = f"sqlite:///{path}"
    settings = load_settings(home=home / "home", database_url=url, admin_password=ADMIN_PASSWORD)
    database = Database(url)
    services.bootstrap(database, settings)
    with serve_in_thread(create_app(settings, database)) as base:
        answer = httpx.post(f"{base}/api/v1/tokens", json={"name": "fuzz"}, auth=("admin", ADMIN_PASSWORD))
        answer.raise_for_status()
        yield base, answer.json()["token"]
    database.close()


def test_the_api_keeps_to_its_own_openapi_document(server: tuple[str, str], tmp_path: Path) -> None:
    base, token = server
    command = [
        str(Path(sys.executable).with_name("st")),
        "run",
        f"{base}/api/v1/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        CHECKS,
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        "3",
        "--max-time",
        str(BUDGET_S),
        "--workers",
        "2",
        "--request-timeout",
        "30",
        "--seed",
        "20261203",  # reproducible in CI; change it locally to explore further
        "--no-color",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=BUDGET_S + 120, cwd=tmp_path)
    report = result.stdout[-20000:] + result.stderr[-2000:]
    assert "Failures:" not in result.stdout, report  # a check failed against Tether's answers
    if result.returncode != 0:
        # The only other non-zero exit: an error inside schemathesis itself. Seen here now and then:
        # hypothesis failing to parse a lambda's source while naming a strategy (a tool bug, not an
        # answer of Tether's); anything else still fails the test.
        tool_error = "Runtime Error" in result.stdout and "hypothesis/internal" in result.stdout
        assert tool_error, report
    assert "Tested: " in result.stdout and "Selected: " in result.stdout, report
