"""Every corpus connector (multi-auth included) yields connection forms without an error."""

from __future__ import annotations

import pytest

from tests._paths import BROKEN_CORPUS_FILES, CORPUS, corpus_packages, need
from tether.definition import PROPERTIES_FILE, ApiProperties, parse_api_properties, parse_document
from tether.errors import TetherError
from tether.services import build_connection_form


@pytest.mark.corpus
def test_every_corpus_connector_yields_connection_forms() -> None:
    need(CORPUS)
    failures: list[str] = []
    counts = {"forms": 0, "multi": 0, "oauth": 0, "fields": 0}
    for folder in corpus_packages():
        path = folder / PROPERTIES_FILE
        relative = str(path.relative_to(CORPUS))
        if not path.exists() or relative in BROKEN_CORPUS_FILES:
            continue
        try:
            data = parse_document(path.read_bytes(), name=relative, format="json").data
            properties: ApiProperties = parse_api_properties(data, name=relative)
            forms = build_connection_form(properties)
        except TetherError as exc:
            failures.append(f"{relative}: {exc.message}")
            continue
        assert forms, relative
        counts["forms"] += 1
        counts["multi"] += len(forms) > 1
        counts["oauth"] += any(form.oauth_field for form in forms)
        counts["fields"] += sum(len(form.fields) for form in forms)
        for form in forms:
            names = [field.name for field in form.fields]
            assert len(names) == len(set(names)), relative
    assert not failures, "\n".join(failures[:20])
    # The corpus shape (REFERENCE.md §1): ~1,000 connectors, 10 multi-auth, ~250 OAuth.
    assert counts["forms"] > 1000 and counts["multi"] >= 10 and counts["oauth"] > 200, counts
