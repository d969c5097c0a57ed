"""Where the shared data sets live: ../shared beside the repository (CI always has it)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus" / "powerplatform"
SAMPLES = SHARED / "samples"
SPECS = SHARED / "specs"
EXAMPLE_CONNECTOR = REPO / "src" / "tether" / "examples" / "sentiment"

# The 11 corpus files that are broken JSON (corpus SOURCE.md), with the position of the error.
BROKEN_CORPUS_FILES = {
    "certified-connectors/CognitiveServicesTextAnalytics/apiDefinition.swagger.json": (276, 6),
    "certified-connectors/IN-D Invoice Data Capture/apiDefinition.swagger.json": (51, 13),
    "certified-connectors/ZohoSign/apiDefinition.swagger.json": (14, 1),
    "certified-connectors/Shopranos/apiProperties.json": (22, 4),
    "certified-connectors/SigningHub/apiProperties.json": (24, 13),
    "certified-connectors/gofileroom/apiProperties.json": (91, 1),
    "independent-publisher-connectors/AccuWeather/apiDefinition.swagger.json": (9, 7),
    "independent-publisher-connectors/GIPHY/apiDefinition.swagger.json": (810, 13),
    "independent-publisher-connectors/Icon Horse/apiDefinition.swagger.json": (56, 11),
    "independent-publisher-connectors/StabilityAI/apiDefinition.swagger.json": (16, 3),
    "independent-publisher-connectors/XSOAR/apiDefinition.swagger.json": (10, 7),
}


def need(path: Path) -> Path:
    """Skip the calling test, saying why, when a shared data set is not beside the repo."""
    if not path.exists():
        pytest.skip(f"{path} is absent: put the project's shared/ folder beside the repository to run this")
    return path


def corpus_packages() -> list[Path]:
    """Every connector folder of the Power Platform corpus (empty when it is absent)."""
    if not CORPUS.exists():
        return []
    return sorted(p for p in CORPUS.glob("*/*") if p.is_dir())
