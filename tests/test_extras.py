"""The core install works without the optional extras, and each extra's feature says what to install.

Each check runs in a fresh interpreter where the extras' packages cannot be imported
(``sys.modules[name] = None`` makes ``import name`` fail as if it were not installed).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# opentelemetry's API comes with FastAPI; the SDK and the OTLP exporter are the extra's.
EXTRAS = (
    "zeep",
    "celery",
    "kombu",
    "psycopg",
    "vaderSentiment",
    "mcp",
    "opentelemetry.sdk",
    "opentelemetry.exporter",
    "prometheus_client",
)
SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples"
CALCULATOR_WSDL = SAMPLES / "wsdl" / "dneonline-calculator.wsdl"


def _run_without_extras(code: str) -> subprocess.CompletedProcess[str]:
    prelude = "import sys\n" + "".join(f"sys.modules[{name!r}] = None\n" for name in EXTRAS)
    return subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip


def test_the_core_serves_validates_and_imports_openapi_without_extras(tmp_path: Path) -> None:
    spec = next((SAMPLES / "swagger2").glob("*.json"), None)
    if spec is None:
        pytest.skip(f"no Swagger sample under {SAMPLES} (../shared is absent)")
    done = _run_without_extras(f"""
        from fastapi.testclient import TestClient
        from tether import services
        from tether.api import create_app
        from tether.config import load_settings
        from tether.definition.lint import lint_package
        from tether.importers import import_openapi
        from tether.store import Database, migrate

        settings = load_settings(home={str(tmp_path / "home")!r}, admin_password="extras-test-pw")
        database = Database(settings.database_url)
        migrate(database)
        services.bootstrap(database, settings)
        with TestClient(create_app(settings, database)) as client:
            assert client.get("/api/v1/health").status_code == 200
        database.close()
        from pathlib import Path
        lint_package(import_openapi(Path({str(spec)!r})).package)
        print("CORE OK")
    """)
    assert "CORE OK" in done.stdout, done.stderr[-3000:]


@pytest.mark.parametrize(
    ("code", "extra"),
    [
        (
            f"from pathlib import Path\nfrom tether.importers import import_wsdl\n"
            f"import_wsdl(Path({str(CALCULATOR_WSDL)!r}))",
            "soap",
        ),
        ("from tether.store import Database\nDatabase('postgresql://u@127.0.0.1:1/db')", "postgresql"),
        ("import tether.examples.sentiment.service", "demo"),
        ("import tether.mcp", "mcp"),
        ("from tether import telemetry\ntelemetry.enable_metrics()", "observability"),
        (
            "from tether import telemetry\ntelemetry.configure_tracing('http://127.0.0.1:4318')",
            "observability",
        ),
    ],
)
def test_a_missing_extra_is_named_in_a_clear_error(code: str, extra: str) -> None:
    done = _run_without_extras(f"""
        from tether.errors import ConfigurationError
        try:
            {code.replace(chr(10), chr(10) + " " * 12)}
        except ConfigurationError as exc:
            print("MESSAGE", exc)
    """)
    assert f"pip install 'tether[{extra}]'" in done.stdout, done.stdout + done.stderr[-3000:]
