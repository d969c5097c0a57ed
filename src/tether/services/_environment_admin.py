"""An environment as its administrators see it: settings, members, every connector's OAuth redirect.

The portal's admin page shows this; the rule that only environment admins (and platform admins)
may open it lives here, like every other rule, so the page itself only renders the 403. Unlike
:func:`list_connectors` it lists *every* connector of the environment, whoever owns it: the OAuth
redirect-URI migration is the admin's audit to run (REFERENCE.md §1).
"""

from __future__ import annotations

from dataclasses import dataclass

from tether.errors import TetherError
from tether.services._access import Principal, require_role, resolve_environment
from tether.services._connection_parts import connector_properties, redirect_mode_of, redirect_url_for
from tether.services._environments import MemberInfo, list_members
from tether.services._redirects import EnvironmentSettingsInfo, get_environment_settings
from tether.store import Connectors, Database, Users

__all__ = ["ConnectorRedirect", "EnvironmentOverview", "environment_overview"]


@dataclass(frozen=True, slots=True)
class ConnectorRedirect:
    """One connector's OAuth redirect (``redirect_mode`` is ``None`` without OAuth).

    ``problem`` says why the mode could not be read (a revision whose properties do not parse).
    """

    connector_id: str
    name: str
    display_name: str
    owner: str | None
    redirect_mode: str | None
    redirect_url: str | None
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class EnvironmentOverview:
    """What an environment's admin page shows."""

    environment: str
    display_name: str
    settings: EnvironmentSettingsInfo
    members: tuple[MemberInfo, ...]
    connectors: tuple[ConnectorRedirect, ...]


def environment_overview(
    db: Database, principal: Principal, environment: str, *, public_url: str
) -> EnvironmentOverview:
    """The environment's settings, members and connectors with their redirect modes (its admins only)."""
    with db.session() as session:
        env, role = resolve_environment(session, principal, environment)
        require_role(role, "admin", action="open the environment's administration page")
        users = Users(session)
        connectors = []
        for row in Connectors(session).list(env.id):
            owner = users.get(row.created_by) if row.created_by else None
            try:
                props = connector_properties(session, row)
                mode, url, problem = (
                    redirect_mode_of(props),
                    redirect_url_for(public_url, props, row.id),
                    None,
                )
            except TetherError as exc:  # one broken revision must not hide the others
                mode, url, problem = None, None, exc.message
            connectors.append(
                ConnectorRedirect(
                    row.id, row.name, row.display_name, owner.username if owner else None, mode, url, problem
                )
            )
        name, display_name = env.name, env.display_name
    return EnvironmentOverview(
        environment=name,
        display_name=display_name,
        settings=get_environment_settings(db, principal, environment),
        members=tuple(list_members(db, principal, environment)),
        connectors=tuple(connectors),
    )
