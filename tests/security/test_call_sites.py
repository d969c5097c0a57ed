"""Every outbound HTTP call of the product takes the runtime's road (DESIGN.md: "the one transport").

Walks the syntax tree of every module under ``src/tether`` (so examples in docstrings do not
count) for the ways Python opens an HTTP connection of its own: ``httpx.AsyncClient(...)``,
``httpx.Client(...)``, ``aiohttp.ClientSession(...)``, ``requests``, ``urllib.request``,
``http.client``. Only the modules below may do so, each for the reason given. And the OAuth
token clients (authlib, under ``tether.auth``) must be handed a client on the road: every
``provider_for`` and ``ConnectionTokenSource`` made outside ``tether.auth`` passes ``http_client``.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "tether"

ALLOWED = {
    # The road itself: aiohttp pools under httpx models, each connection opened through the SSRF
    # guard (GuardedTransport), and the httpx client over it that the runtime's Transport drives.
    "runtime/_http.py": {"aiohttp.ClientSession", "httpx.AsyncClient"},
    # A client whose only transport (_Deadlined) hands every request to the road's client with the
    # token refresh's deadline attached: authlib needs a client object, and opens nothing of its own.
    "services/_connection_tokens.py": {"httpx.AsyncClient"},
    # The CLI's own client: it talks only to the Tether server the user named (--server).
    "cli/_client.py": {"httpx.Client"},
    # The Python SDK, like the CLI, is a client of Tether: it talks only to the server it is given.
    "sdk/_client.py": {"httpx.Client"},
    "sdk/_async_client.py": {"httpx.AsyncClient"},
    # The on-premises gateway agent: a separate road by design. It runs inside the private network
    # that the server cannot see, so the server's SSRF guard cannot judge its destinations; the
    # agent's own allowlist (set by its admin) does, before every call (gateway/_allowlist.py).
    "gateway/_agent.py": {"httpx.AsyncClient"},
}
CLIENTS = {"httpx.AsyncClient", "httpx.Client", "aiohttp.ClientSession"}
MODULES = {"requests", "urllib.request", "http.client", "urllib3", "pycurl"}


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _sites(path: Path) -> list[tuple[str, int]]:
    """``(what, line)`` for every HTTP client made or HTTP module imported in ``path``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    aliases: dict[str, str] = {}  # from httpx import AsyncClient as X  =>  X -> httpx.AsyncClient
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names if alias.name in MODULES]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module in MODULES or node.module.split(".")[0] == "requests":
                found.append((node.module, node.lineno))
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _dotted(node.func)
            name = aliases.get(name, name)
            if name in CLIENTS or name.startswith("requests."):
                found.append((name, node.lineno))
    return found


def test_no_http_client_outside_the_transport_and_the_cli() -> None:
    unexpected = []
    counted = 0
    for path in sorted(SRC.rglob("*.py")):
        where = path.relative_to(SRC).as_posix()
        for what, line in _sites(path):
            counted += 1
            if what not in ALLOWED.get(where, set()):
                unexpected.append(f"src/tether/{where}:{line}: {what}")
    assert not unexpected, (
        "outbound HTTP must go through the runtime's transport (Runtime.transport(policy).send, "
        "Runtime.http_client(policy) or tether.runtime.road_client):\n" + "\n".join(unexpected)
    )
    assert counted == sum(len(v) for v in ALLOWED.values())  # the allowed sites are still there


def _calls_missing(name: str, keyword: str) -> list[str]:
    missing = []
    for path in sorted(SRC.rglob("*.py")):
        where = path.relative_to(SRC).as_posix()
        if where.startswith("auth/"):
            continue  # the auth layer defines them; callers above it must wire the road in
        tree = ast.parse(path.read_text())
        # ``provider_for(...).authorization_url(...)`` only builds a URL for the browser: no request.
        offline = {
            id(node.value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and node.attr == "authorization_url"
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and _dotted(node.func).rsplit(".", 1)[-1] == name
                and id(node) not in offline
                and not any(k.arg == keyword for k in node.keywords)
            ):
                missing.append(f"src/tether/{where}:{node.lineno}")
    return missing


def test_oauth_token_requests_are_handed_the_road() -> None:
    assert not _calls_missing("provider_for", "http_client")
    assert not _calls_missing("ConnectionTokenSource", "http_client")


def test_the_enumeration_sees_what_it_looks_for(tmp_path: Path) -> None:
    """The walker itself: each way of opening a connection is found, a docstring mention is not."""
    module = tmp_path / "m.py"
    module.write_text(
        '"""httpx.AsyncClient(auth=a) in a docstring."""\n'
        "import httpx, aiohttp, requests\n"
        "import urllib.request\n"
        "from httpx import AsyncClient as C\n"
        "httpx.AsyncClient()\nhttpx.Client()\naiohttp.ClientSession()\nrequests.get('x')\nC()\n"
    )
    assert sorted(w for w, _ in _sites(module)) == sorted(
        ["requests", "urllib.request", "httpx.AsyncClient", "httpx.Client", "aiohttp.ClientSession",
         "requests.get", "httpx.AsyncClient"]
    )  # fmt: skip
