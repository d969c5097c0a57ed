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
