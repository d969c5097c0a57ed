from __future__ import annotations

from pathlib import Path

import pydantic
import pytest

from tether.config import Settings, load_settings


def test_defaults_live_under_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("TETHER_HOME", "TETHER_DATABASE_URL", "TETHER_PUBLIC_URL", "TETHER_ADMIN_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    settings = load_settings()
    assert settings.home == tmp_path / ".tether"
    assert settings.database_url == f"sqlite:///{tmp_path / '.tether' / 'tether.db'}"
    assert settings.public_url == "http://127.0.0.1:8000"
    assert settings.admin_password is None


def test_environment_and_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TETHER_HOME", str(tmp_path))
    monkeypatch.setenv("TETHER_PUBLIC_URL", "https://tether.example.org/")
    monkeypatch.setenv("TETHER_ADMIN_PASSWORD", "from-the-environment")
    settings = load_settings(database_url="postgresql://db/tether", public_url=None)
    assert settings.home == tmp_path
    assert settings.database_url == "postgresql://db/tether"
    assert settings.public_url == "https://tether.example.org"  # None overrides are ignored
    assert settings.admin_password.get_secret_value() == "from-the-environment"
    assert "from-the-environment" not in repr(settings)


def test_settings_are_frozen_and_documented() -> None:
    settings = load_settings(home="/srv/tether")
    with pytest.raises(pydantic.ValidationError):
        settings.home = Path("/elsewhere")  # type: ignore[misc]
    assert all(field.description for field in Settings.model_fields.values())
