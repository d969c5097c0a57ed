"""The SDK is a light client: ``import tether`` loads nothing, ``tether.Client`` only httpx's world."""

from __future__ import annotations

import subprocess
import sys

SERVER_MODULES = {"sqlalchemy", "alembic", "fastapi", "starlette", "uvicorn", "pydantic", "typer", "mcp"}


def _top_level_modules_after(code: str) -> set[str]:
    script = code + "\nimport sys\nprint(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    return set(done.stdout.split())


def test_import_tether_stays_light() -> None:
    assert not _top_level_modules_after("import tether") & (SERVER_MODULES | {"httpx"})


def test_the_client_loads_none_of_the_server() -> None:
    imported = _top_level_modules_after("import tether\ntether.Client\ntether.AsyncClient")
    assert "httpx" in imported
    assert not imported & SERVER_MODULES, sorted(imported & SERVER_MODULES)
