"""Acceptance over the whole Power Platform corpus, through the real API: every readable
package uploads, downloads and compares semantically equal; every broken file is refused
with its file, line and column. Runs on SQLite (the store tests cover PostgreSQL)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests._paths import BROKEN_CORPUS_FILES, CORPUS, corpus_packages
from tether import services
from tether.api import create_app
from tether.config import load_settings
from tether.definition import load_package, package_from_files, package_from_zip
from tether.errors import DocumentSyntaxError
from tether.services._client_secrets import mask_client_secrets
from tether.store import Database, migrate

SHARDS = 8  # several test items, so pytest-xdist spreads the corpus over both workers
PASSWORD = "corpus-admin-password"
pytestmark = pytest.mark.corpus


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    home = tmp_path_factory.mktemp("corpus-home")
    settings = load_settings(home=home, admin_password=PASSWORD)
    database = Database(settings.database_url)
    migrate(database)
    services.bootstrap(database, settings)
    with TestClient(create_app(settings, database)) as test_client:
        token = test_client.post("/api/v1/tokens", json={"name": "corpus"}, auth=("admin", PASSWORD)).json()
        test_client.headers["Authorization"] = f"Bearer {token['token']}"
        yield test_client
    database.close()


def _shard(index: int) -> list[Path]:
    return corpus_packages()[index::SHARDS]


@pytest.mark.parametrize("shard", range(SHARDS))
def test_every_readable_package_uploads_downloads_and_round_trips(client: TestClient, shard: int) -> None:
    if not CORPUS.exists():
        pytest.skip(f"{CORPUS} is absent: put the project's shared/ folder beside the repository")
    broken_folders = {CORPUS / Path(relative).parent for relative in BROKEN_CORPUS_FILES}
    uploaded = 0
    for folder in _shard(shard):
        if folder in broken_folders:
            continue
        package = load_package(folder)
        answer = client.post(
            "/api/v1/environments/default/connectors",
            files={"package": ("p.zip", package.to_zip(), "application/zip")},
            data={"name": f"c{shard}-{uploaded}"},
        )
        assert answer.status_code == 201, (folder, answer.text)
        created = answer.json()
        assert not [f for f in created["findings"] if f["rule"] == "internal/rule-crashed"], folder
        archive = client.get(f"/api/v1/environments/default/connectors/{created['id']}/download")
        assert archive.status_code == 200
        downloaded = package_from_zip(archive.content)
        # OAuth client secrets come back as the placeholder (an upload carrying it keeps the secret);
        # everything else, bytes included (BOMs and comments), comes back untouched.
        shown = package_from_files(mask_client_secrets(package.files))
        assert downloaded.semantically_equal(shown), folder
        assert downloaded.files == shown.files, folder
        uploaded += 1
    assert uploaded >= len(_shard(shard)) - len(broken_folders)


@pytest.mark.parametrize("relative", sorted(BROKEN_CORPUS_FILES), ids=lambda r: r.split("/")[1])
def test_broken_corpus_packages_are_refused_with_position(client: TestClient, relative: str) -> None:
    if not CORPUS.exists():
        pytest.skip(f"{CORPUS} is absent: put the project's shared/ folder beside the repository")
    folder = CORPUS / Path(relative).parent
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for file in folder.iterdir():
            archive.writestr(file.name, file.read_bytes())
    answer = client.post(
        "/api/v1/environments/default/connectors",
        files={"package": ("p.zip", buffer.getvalue(), "application/zip")},
    )
    line, column = BROKEN_CORPUS_FILES[relative]
    assert answer.status_code == 400
    problem = answer.json()
    assert problem["type"].endswith("/document-syntax")
    assert (problem["line"], problem["column"]) == (line, column)
    assert problem["file"].endswith(Path(relative).name)
    assert f":{line}:{column}: invalid JSON" in problem["detail"]
    assert "Traceback" not in answer.text
    # The same error offline, naming the real file.
    with pytest.raises(DocumentSyntaxError, match=rf"{Path(relative).name}:{line}:{column}"):
        load_package(folder)
