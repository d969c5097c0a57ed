"""The services tests' principals and environment, for the security tests that call services."""

from tests.services.conftest import admin, make_user, team

__all__ = ["admin", "make_user", "team"]
