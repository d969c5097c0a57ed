"""The import direction of DESIGN.md, enforced: lower layers never import higher ones.

    cli, api, portal, mcp, gateway ─┐
    executors ──────────────────────┼─> hosting ─> services ─> store
                                    │                 └──> flows ─> runtime ─> auth ─> secrets
                                    │                                  └──> definition <── importers

``hosting`` (the run journal, scheduler, triggers: what keeps flows running in a process) sits
above ``services``: it runs what the use cases created and checked, and holds no permission rule.
``errors``, ``_extras`` (the error for a missing optional package) and ``telemetry`` (spans,
metrics, log ids) are shared by every layer; ``config`` (process settings) only by the layers
that start processes and the services they configure. The API composes the portal, the MCP
endpoint and the gateway relay into one app; the CLI may import the API because ``tether serve``
and ``tether demo`` host it.

Every import form counts: ``import tether.x``, ``from tether.x import y``, ``from tether import x``
and relative imports, resolved against the importing module's package.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import tether

SRC = Path(tether.__file__).parent
BOTTOM: dict[str, set[str]] = {"definition": set(), "secrets": set(), "store": set()}
CORE = {
    **BOTTOM,
    "importers": {"definition"},
    "auth": {"secrets"},
    "runtime": {"auth", "secrets", "definition"},
    "flows": {"runtime", "auth", "secrets", "definition"},
}
SERVICE_DEPS = {"store", "config", "importers", *CORE}
HOSTED = {"hosting", "services", *SERVICE_DEPS}
ALLOWED: dict[str, set[str]] = {
    **CORE,
    "services": SERVICE_DEPS,
    "hosting": {"services", *SERVICE_DEPS},
    "executors": HOSTED,
    "portal": HOSTED,
    "mcp": HOSTED,
    "gateway": HOSTED,
    "api": {"portal", "mcp", "gateway", *HOSTED},
    # the CLI hosts the API (tether serve) and the demo runs the example service
    "cli": {"api", "executors", "portal", "mcp", "gateway", "examples", *HOSTED},
    # The Python SDK is a client of the API over HTTP: it may use nothing of the server's layers.
    "sdk": set(),
    "config": set(),
    "errors": set(),
    "_extras": set(),
    "telemetry": {"_extras"},
}
SHARED = {"errors", "_extras", "telemetry"}


def _layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "tether" else None


def _package_of(path: Path) -> list[str]:
    parts = ["tether", *path.relative_to(SRC).with_suffix("").parts]
    return parts if path.name == "__init__.py" and parts.pop() else parts[:-1]


def _imports(path: Path) -> set[str]:
    """Every ``tether`` module ``path`` imports, whatever the form (``from tether import services``
    is ``tether.services``; ``from ..x import y`` is resolved against the module's package)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = _package_of(path)
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            if module == "tether":
                found.update(f"tether.{alias.name}" for alias in node.names)
            else:
                found.add(module)
    return found


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if p.relative_to(SRC).parts[0] != "examples")


def test_every_import_form_is_seen() -> None:
    """The resolver itself: the forms a layer check must not miss."""
    source = SRC / "services" / "_keys.py"
    assert _package_of(source) == ["tether", "services"]
    assert _package_of(SRC / "services" / "__init__.py") == ["tether", "services"]
    tree_forms = {
        "from tether import hosting": "tether.hosting",
        "from . import _access": "tether.services",
        "from .._extras import require_extra": "tether._extras",
        "import tether.api": "tether.api",
    }
    for line, expected in tree_forms.items():
        probe = source.with_name("_probe_layers.py")
        try:
            probe.write_text(line + "\n")
            assert expected in _imports(probe), line
        finally:
            probe.unlink()


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_module_imports_only_lower_layers(path: Path) -> None:
    relative = path.relative_to(SRC)
    layer = relative.parts[0].removesuffix(".py")
    if layer == "__init__":
        return
    assert layer in ALLOWED, f"{relative}: new layer {layer!r}; add it to DESIGN.md and this test"
    for module in _imports(path):
        target = _layer_of(module)
        if target is None or target == layer or target in SHARED:
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
