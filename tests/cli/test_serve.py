from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tether.cli.serve import INITIAL_PASSWORD_FILE, open_database
from tether.config import load_settings


def test_first_start_creates_admin_and_says_how_to_log_in(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    settings = load_settings(home=tmp_path / "home")
    open_database(settings).close()
    secret_file = tmp_path / "home" / INITIAL_PASSWORD_FILE
    password = secret_file.read_text().strip()
    assert len(password) >= 16
    assert stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600
    printed = capsys.readouterr().err
    assert "tether login --server http://127.0.0.1:8000 --username admin" in printed
    assert str(secret_file) in printed
    assert password not in printed  # server output often ends up in log files
    # The second start changes nothing and prints nothing about the admin.
    open_database(settings).close()
    assert secret_file.read_text().strip() == password
    assert "First start" not in capsys.readouterr().err


def test_admin_password_from_the_environment_is_not_written(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    settings = load_settings(home=tmp_path / "home", admin_password="from-the-environment")
    open_database(settings).close()
    assert not (tmp_path / "home" / INITIAL_PASSWORD_FILE).exists()
    printed = capsys.readouterr().err
    assert "TETHER_ADMIN_PASSWORD" in printed and "from-the-environment" not in printed


def test_several_worker_processes_serve_one_database(tmp_path: Path) -> None:
    """``tether serve --workers 2``: a real server; a token made through one process works in every one."""
    import signal
    import subprocess
    import sys
    import time

    import httpx

    from tether.api import free_port

    port = free_port()
    env = {**os.environ, "TETHER_HOME": str(tmp_path / "home"), "TETHER_ADMIN_PASSWORD": "workers-pass-1"}
    command = [str(Path(sys.executable).parent / "tether"), "serve", "--port", str(port), "--workers", "2"]
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180  # two processes starting on a possibly saturated machine
        while True:
            try:
                if httpx.get(f"{base}/api/v1/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "the server did not start"
            time.sleep(0.2)
        created = httpx.post(
            f"{base}/api/v1/tokens", json={"name": "w"}, auth=("admin", "workers-pass-1"), timeout=60
        )
        headers = {"Authorization": f"Bearer {created.json()['token']}"}
        for _ in range(20):  # new connections, spread over both processes by the kernel
            assert httpx.get(f"{base}/api/v1/me", headers=headers, timeout=60).json()["username"] == "admin"
    finally:
        server.send_signal(signal.SIGINT)
        try:
            output, _ = server.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            output, _ = server.communicate()
    assert "2 processes" in output
    assert len({line for line in output.splitlines() if "Started server process" in line}) == 2
