"""Every loadable Power Platform corpus package lints in both profiles without a rule crash."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from pathlib import Path

import pytest

from tether.definition import load_package
from tether.errors import TetherError

CORPUS = Path(__file__).resolve().parents[3].parent / "shared" / "corpus" / "powerplatform"

pytestmark = pytest.mark.corpus


def _lint_folder(folder: str) -> tuple[str, list[str] | None]:
    """Rule ids found in one package across both profiles, or None when it does not load."""
    from tether.definition.lint import lint_package

    try:
        package = load_package(folder)
    except TetherError:
        return folder, None
    rules = [
        f.rule for profile in ("custom", "certification") for f in lint_package(package, profile=profile)
    ]
    return folder, rules


def test_the_whole_corpus_lints_without_rule_crashes() -> None:
    if not CORPUS.exists():
        pytest.skip(f"{CORPUS} is absent: put the project's shared/ folder beside the repository to run this")
    folders = sorted(str(p) for p in CORPUS.glob("*/*") if p.is_dir())
    with multiprocessing.get_context("fork").Pool(2) as pool:
        results = pool.map(_lint_folder, folders, chunksize=8)
    loaded = [(folder, rules) for folder, rules in results if rules is not None]
    # 11 corpus files are genuinely broken JSON (REFERENCE.md §1); everything else must load.
    assert len(folders) - len(loaded) <= 11
    crashed = [folder for folder, rules in loaded if "internal/rule-crashed" in rules]
    assert crashed == []
    counts = Counter(rule for _, rules in loaded for rule in rules)
    # Published connectors are mostly valid: schema errors stay rare.
    assert counts["structure/invalid-schema"] < 20
