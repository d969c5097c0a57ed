"""The import direction of DESIGN.md, enforced: lower layers never import higher ones.

    cli ─┐
    api ─┼─> services ─> store
    ...  │       └──> flows ─> triggers ─> runtime ─> auth ─> secrets
                                             └──> definition <── importers

``errors`` and ``_extras`` (the error for a missing optional package) are shared by every
layer; ``config`` (process settings) only by the layers that start processes and the services
they configure. The CLI may import the API because ``tether serve`` and ``tether demo`` host it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import tether

SRC = Path(tether.__file__).parent
BOTTOM = {"definition": set(), "secrets": set(), "store": set()}
CORE = {
    **BOTTOM,
    "importers": {"definition"},
    "auth": {"secrets"},
    "runtime": {"auth", "secrets", "definition"},
    "triggers": {"runtime", "auth", "secrets", "definition"},
    "flows": {"triggers", "runtime", "auth", "secrets", "definition"},
}
SERVICE_DEPS = {"store", "config", "importers", *CORE}
ALLOWED: dict[str, set[str]] = {
    **CORE,
    "services": SERVICE_DEPS,
    "api": {"services", *SERVICE_DEPS},
    "portal": {"services", *SERVICE_DEPS},
    "mcp": {"services", *SERVICE_DEPS},
    "gateway": {"services", *SERVICE_DEPS},
    "executors": {"services", *SERVICE_DEPS},
    "cli": {"services", "api", "executors", "examples", *SERVICE_DEPS},  # the demo runs the example service
    "config": set(),
    "errors": set(),
    "_extras": set(),
}
SHARED = {"errors", "_extras"}


def _layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "tether" else None


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if p.relative_to(SRC).parts[0] != "examples")


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_module_imports_only_lower_layers(path: Path) -> None:
    relative = path.relative_to(SRC)
    layer = relative.parts[0].removesuffix(".py")
    if layer == "__init__":
        return
    assert layer in ALLOWED, f"{relative}: new layer {layer!r}; add it to DESIGN.md and this test"
    for module in _imports(path):
        target = _layer_of(module)
        if target is None or target == layer or target in SHARED or module == "tether":
            continue
        assert target in ALLOWED[layer], f"{relative} imports {module}: {layer} may not depend on {target}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_other_layers_use_public_names_only(path: Path) -> None:
    """Layers import each other's package roots (or public subpackages), never ``_private`` modules."""
    layer = path.relative_to(SRC).parts[0].removesuffix(".py")
    for module in _imports(path):
        target = _layer_of(module)
        if target is None or target == layer:
            continue
        assert not any(part.startswith("_") for part in module.split(".")[2:]), (
            f"{path.relative_to(SRC)} imports private module {module}"
        )


def test_modules_stay_small() -> None:
    """STYLE.md: past ~400 lines a module is usually two; past 1,000 is a defect."""
    sizes = {str(p.relative_to(SRC)): len(p.read_text().splitlines()) for p in _modules()}
    assert not {name: n for name, n in sizes.items() if n > 600}, sizes
