"""The portal in a real browser: one Tether server per test session, a fresh Chromium per test.

The server is the real API app (portal included) served by uvicorn on a free loopback port
(``serve_in_thread``, as the CLI tests do), on a fresh SQLite database with a known admin
password. Chromium is the Debian one driven by Playwright's sync API, launched as
``../shared/TESTING.md`` says (never ``playwright install``: it downloads). Tests that need a
browser skip with a clear message only when ``/usr/bin/chromium`` or Playwright is absent.

Fixtures:
    portal          the running server: ``url``, ``db``, ``settings``, ``user(...)``, ``session_cookie(...)``
    browser         Chromium for one test (~1 s to launch; see ``browser`` for why not shared)
    page            a fresh 1280x800 page (its own cookies) per test
    signed_in_page  ``page`` already signed in as the platform admin
    axe_violations  ``axe_violations(page)`` → serious/critical axe-core violations on the page
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tether import services
from tether.api import create_app, serve_in_thread
from tether.config import Settings, load_settings
from tether.services import Principal
from tether.store import Database, migrate

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--headless=new",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ADMIN_PASSWORD = "portal-admin-password"
USER_PASSWORD = "portal-user-password"
VIEWPORT = {"width": 1280, "height": 800}
SESSION_TOKEN_NAME = "portal sign-in"  # what tether.portal names browser-session tokens


@dataclass
class Portal:
    """The running server and shortcuts to set up data through the services layer."""

    url: str
    db: Database
    settings: Settings

    @functools.cached_property
    def admin(self) -> Principal:
        return services.authenticate_password(self.db, "admin", ADMIN_PASSWORD)

    def user(self, username: str, *, environment: str = "default", role: str = "maker") -> Principal:
        """A user with a password (:data:`USER_PASSWORD`), member of ``environment`` with ``role``."""
        admin = self.admin
        services.create_user(self.db, admin, username, password=USER_PASSWORD)
        services.add_member(self.db, admin, environment, username, role)
        return services.authenticate_password(self.db, username, USER_PASSWORD)

    def session_cookie(self, principal: Principal) -> dict[str, Any]:
        """A signed-in session for ``principal`` as a Playwright cookie (skips the login form)."""
        token, _ = services.create_token(self.db, principal, SESSION_TOKEN_NAME)
        return {
            "name": "tether_session",
            "value": token,
            "url": self.url,
            "httpOnly": True,
            "sameSite": "Lax",
        }


@pytest.fixture(scope="session")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    settings = load_settings(home=tmp_path_factory.mktemp("portal-home"), admin_password=ADMIN_PASSWORD)
    database = Database(settings.database_url)
    migrate(database)
    services.bootstrap(database, settings)
    with serve_in_thread(create_app(settings, database)) as url:
        yield Portal(url=url, db=database, settings=settings)
    database.close()


@pytest.fixture
def browser() -> Iterator[Any]:
    """Chromium for one test. Not shared across tests: while Playwright's sync API is started it
    leaves its event loop set as the running loop of the main thread, and every later test in the
    same worker that calls ``asyncio.run`` would fail; stopping it after each test clears that."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent: apt-get install -y chromium to run the portal's browser tests")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright is absent: pip install -e '.[browser]' to run the portal's browser tests")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any, portal: Portal) -> Iterator[Any]:
    context = browser.new_context(viewport=VIEWPORT, base_url=portal.url)
    context.set_default_timeout(20_000)  # generous: CI machines are busy
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def signed_in_page(page: Any, portal: Portal) -> Any:
    page.context.add_cookies([portal.session_cookie(portal.admin)])
    return page


def _serious(violations: list[dict[str, Any]]) -> list[str]:
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
        for v in violations
        if v.get("impact") in ("serious", "critical")
    ]


@pytest.fixture(scope="session")
def axe_violations() -> Callable[[Any], list[str]]:
    """``axe_violations(page)``: axe-core's serious and critical violations, one line each."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()

    def check(page: Any) -> list[str]:
        return _serious(axe.run(page).response["violations"])

    return check


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page (for HTTP-level tests)."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)
