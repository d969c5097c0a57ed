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
from tether.portal._package_edit import Operation, operations_of
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
    operations: list[Operation]

    @property
    def url(self) -> str:
        return f"/e/{quote(self.env.name, safe='')}/connectors/{quote(self.info.name, safe='')}"

    @property
    def etag(self) -> str:
        """The connector's ETag as opened: what a tab's form carries back as ``If-Match``."""
        return services.resource_etag(self.info.id, self.info.updated_at)


@dataclass(frozen=True)
class _Derived:
    findings: list[Finding]
    operations: list[Operation]


class _DerivedCache:
    """Lint findings and the operation list by ``(connector id, revision)``: revisions never change,
    and linting or even parsing a 400-operation definition is too slow to repeat on every tab view."""

    def __init__(self) -> None:
        self._items: OrderedDict[tuple[str, int], _Derived] = OrderedDict()
        self._lock = Lock()

    def derived(self, key: tuple[str, int], files: dict[str, bytes]) -> _Derived:
        with self._lock:
            found = self._items.get(key)
        if found is None:
            try:
                findings = lint_package(package_from_files(files, source=""))
            except TetherError:
                findings = []  # unreadable files: the Swagger editor shows the parse error instead
            try:
                operations = operations_of(files)
            except TetherError:
                operations = []
            found = _Derived(findings=findings, operations=operations)
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
    if getattr(state, "portal_derived", None) is None:
        state.portal_derived = _DerivedCache()
    cache: _DerivedCache = state.portal_derived
    derived = cache.derived((info.id, info.current_revision), files)
    return Wizard(
        db=db,
        principal=principal,
        env=env,
        info=info,
        files=files,
        findings=derived.findings,
        operations=derived.operations,
    )


def save(
    wizard: Wizard,
    files: dict[str, bytes],
    tab: str,
    keyring: KeyRing,
    *,
    client_secret: str | None = None,
    if_match: str | None = None,
) -> ConnectorInfo:
    """Store ``files`` as the connector's next revision, noting which tab saved it.

    ``if_match`` is the ETag the tab's form was loaded with: a connector saved by someone else
    since raises :class:`~tether.errors.PreconditionFailed` and nothing is stored.
    """
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
        if_match=if_match,
    )
