"""What every wizard tab works on: the connector, its current files and their lint findings,
and saving a tab as a new revision."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from threading import Lock
from urllib.parse import quote

from fastapi import Request

from tether import services
from tether.definition import package_from_files
from tether.definition.lint import Finding, lint_package
from tether.errors import TetherError
from tether.secrets import KeyRing
from tether.services import ConnectorInfo, EnvironmentInfo, Principal
from tether.store import Database

__all__ = ["TABS", "Wizard", "open_wizard", "save"]

TABS = (("general", "1. General"), ("security", "2. Security"), ("definition", "3. Definition"),
        ("code", "4. Code"), ("test", "5. Test"))  # fmt: skip
MAX_CACHED_FINDINGS = 500


@dataclass(frozen=True)
class Wizard:
    """One connector opened in the wizard by one user."""

    db: Database
    principal: Principal
    env: EnvironmentInfo
    info: ConnectorInfo
    files: dict[str, bytes]
    findings: list[Finding]

    @property
    def url(self) -> str:
        return f"/e/{quote(self.env.name, safe='')}/connectors/{quote(self.info.name, safe='')}"


class _FindingsCache:
    """Lint findings by ``(connector id, revision)``: revisions never change, and a 400-operation
    definition takes long enough to lint that every tab view should not pay for it."""

    def __init__(self) -> None:
        self._items: OrderedDict[tuple[str, int], list[Finding]] = OrderedDict()
        self._lock = Lock()

    def findings(self, key: tuple[str, int], files: dict[str, bytes]) -> list[Finding]:
        with self._lock:
            found = self._items.get(key)
        if found is None:
            try:
                found = lint_package(package_from_files(files, source=""))
            except TetherError:
                found = []  # unreadable files: the Swagger editor shows the parse error instead
            with self._lock:
                self._items[key] = found
                while len(self._items) > MAX_CACHED_FINDINGS:
                    self._items.popitem(last=False)
        return found


def open_wizard(
    request: Request, db: Database, principal: Principal, env: EnvironmentInfo, connector: str
) -> Wizard:
    """The connector's current revision as the wizard edits it (makers with edit rights)."""
    info = services.get_connector(db, principal, env.name, connector)
    files = services.get_revision_files(db, principal, env.name, info.id, info.current_revision)
    state = request.app.state
    if getattr(state, "portal_findings", None) is None:
        state.portal_findings = _FindingsCache()
    cache: _FindingsCache = state.portal_findings
    findings = cache.findings((info.id, info.current_revision), files)
    return Wizard(db=db, principal=principal, env=env, info=info, files=files, findings=findings)


def save(
    wizard: Wizard, files: dict[str, bytes], tab: str, keyring: KeyRing, *, client_secret: str | None = None
) -> ConnectorInfo:
    """Store ``files`` as the connector's next revision, noting which tab saved it."""
    package = package_from_files(files, source=wizard.info.name)
    return services.update_connector(
        wizard.db,
        wizard.principal,
        wizard.env.name,
        wizard.info.id,
        package,
        note=f"{tab} tab",
        client_secret=client_secret,
        keyring=keyring,
    )
