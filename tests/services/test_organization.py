"""Services of the organization: group roles, audit retention, destination facts, sharing rules."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.services._connections_kit import api_key_package
from tether.errors import InputError, NotFound, PermissionDenied
from tether.services import (
    add_group_member,
    create_connector,
    create_group,
    get_connector,
    get_environment,
    list_audit,
    purge_audit,
    set_environment_settings,
    set_group_role,
    share_resource,
    unshare_resource,
)
from tether.services._destination import destination_changes
from tether.store import AuditEvent, AuditLog, utcnow


def test_strongest_role_wins_between_membership_and_groups(db, admin, team, make_user) -> None:
    ada = make_user("ada", environment=team, role="user")
    create_group(db, admin, "builders")
    add_group_member(db, admin, "builders", "ada")
    assert get_environment(db, ada, team).role == "user"
    set_group_role(db, admin, team, "builders", "maker")
    assert get_environment(db, ada, team).role == "maker"
    set_group_role(db, admin, team, "builders", None)
    assert get_environment(db, ada, team).role == "user"
    with pytest.raises(PermissionDenied):
        set_group_role(db, ada, team, "builders", "admin")  # only environment admins map groups


def test_sharing_refuses_what_a_kind_does_not_offer_and_unknown_grantees(db, admin, team, make_user) -> None:
    make_user("ada", environment=team, role="maker")
    create_connector(db, admin, team, api_key_package(), name="pets")
    with pytest.raises(InputError, match="edit or use"):
        share_resource(db, admin, team, "connector", "pets", "user:ada", "run")
    with pytest.raises(NotFound, match="tether user list"):
        share_resource(db, admin, team, "connector", "pets", "user:nobody", "use")
    with pytest.raises(InputError, match="owns"):
        share_resource(db, admin, team, "connector", "pets", "user:root", "use")
    with pytest.raises(NotFound, match="not shared"):
        unshare_resource(db, admin, team, "connector", "pets", "everyone")


def test_a_group_grant_reaches_members_and_stops_when_they_leave(db, admin, team, make_user) -> None:
    ada = make_user("ada", environment=team, role="maker")
    create_connector(db, admin, team, api_key_package(), name="pets")
    create_group(db, admin, "crew")
    share_resource(db, admin, team, "connector", "pets", "group:crew", "use")
    with pytest.raises(NotFound):
        get_connector(db, ada, team, "pets")
    add_group_member(db, admin, "crew", "ada")
    assert get_connector(db, ada, team, "pets").name == "pets"


def test_audit_retention_per_environment(db, admin, team) -> None:
    set_environment_settings(db, admin, team, audit_retention_days=10)
    env = get_environment(db, admin, team)
    old = utcnow() - timedelta(days=11)
    with db.session() as session:
        log = AuditLog(session)
        for action, environment in (("x.old", env.id), ("x.platform", None)):
            event = log.record(action, actor="root", environment=environment)
            event.at = old
    assert purge_audit(db) == 1  # this environment's 11-day-old event; the platform one keeps 365 days
    remaining = {e.action for e in list_audit(db, admin, None, action="x.", limit=10)}
    assert remaining == {"x.platform"}
    with db.session() as session:
        assert session.query(AuditEvent).filter(AuditEvent.action == "x.old").count() == 0
    with pytest.raises(InputError):
        list_audit(db, admin, team, limit=0)


def test_destination_changes_name_what_moved() -> None:
    before = api_key_package(host="http://api.example:80").files
    after = api_key_package(host="https://evil.example").files
    changes = destination_changes(before, after)
    assert set(changes) == {"host", "schemes"}
    assert json.loads(changes["host"]["after"]) == "evil.example"
    assert destination_changes(before, before) == {}
