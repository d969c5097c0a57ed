"""Property over the Power Platform corpus: import → export → re-import changes nothing.

Sharded with pytest.param so pytest-xdist spreads the ~1,000 connectors over its workers.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests._paths import CORPUS, corpus_packages, need
from tether.definition import DEFINITION_FILE, PROPERTIES_FILE, load_package
from tether.definition.lint import lint_package
from tether.errors import TetherError
from tether.importers._export import export_powerplatform
from tether.importers._openapi import import_openapi

pytestmark = pytest.mark.corpus
SHARDS = 8


@pytest.mark.parametrize("shard", [pytest.param(i, id=f"shard{i}") for i in range(SHARDS)])
def test_round_trip_is_stable(shard: int, tmp_path: Path) -> None:
    need(CORPUS)
    checked, failures = 0, []
    for folder in corpus_packages()[shard::SHARDS]:
        try:
            package = load_package(folder)
        except TetherError:
            continue  # the broken files of the corpus: covered by the definition tests
        if any(f.severity == "error" for f in lint_package(package)):
            continue
        source = Path(package.definition.name)
        first = import_openapi(source)
        exported = export_powerplatform(first.package)
        again_source = tmp_path / f"{checked}.json"
        again_source.write_bytes(exported.package.files[DEFINITION_FILE])
        again = import_openapi(again_source)
        if again.package.definition.data != first.package.definition.data:
            failures.append(f"{folder.name}: definition changed")
        if again.package.properties.data != first.package.properties.data:
            failures.append(f"{folder.name}: apiProperties changed")
        # Exporting the corpus package itself keeps its own apiProperties byte for byte.
        own = export_powerplatform(package)
        if own.package.files.get(PROPERTIES_FILE) != package.files.get(PROPERTIES_FILE) or (
            own.report and any(item.kind in ("approximation", "unsupported") for item in own.report)
        ):
            failures.append(f"{folder.name}: export of the corpus package changed it")
        checked += 1
    assert not failures, failures
    assert checked > 0
