"""The real authorization server fixture for the auth tests (see tests/oauth_server/fixtures.py)."""

from __future__ import annotations

from tests.oauth_server.fixtures import oauth_server  # noqa: F401  (fixture re-exported for this folder)
