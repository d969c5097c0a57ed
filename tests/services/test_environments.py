from __future__ import annotations

import pytest

from tether.definition import package_from_files
from tether.errors import Conflict, InputError, NotFound, PermissionDenied
from tether.services import (
    add_member,
    create_connector,
    create_environment,
    get_environment,
    list_environments,
    list_members,
    remove_member,
)

PACKAGE = package_from_files({"apiDefinition.swagger.json": b'{"swagger": "2.0", "info": {"title": "Pets"}}'})


def test_admin_creates_and_sees_every_environment(db, admin, team) -> None:
    create_environment(db, admin, "lab")
    assert [env.name for env in list_environments(db, admin)] == ["lab", "team"]
    info = get_environment(db, admin, "team")
    assert (info.display_name, info.role) == ("Team", "admin")
    assert get_environment(db, admin, info.id) == info


def test_members_see_only_their_environments(db, admin, team, make_user) -> None:
    create_environment(db, admin, "lab")
    ada = make_user("ada", environment=team, role="maker")
    assert [(env.name, env.role) for env in list_environments(db, ada)] == [("team", "maker")]


@pytest.mark.parametrize("lookup", [pytest.param("name", id="by-name"), pytest.param("id", id="by-id")])
def test_non_member_gets_not_found_not_forbidden(db, admin, team, make_user, lookup) -> None:
    outsider = make_user("eve")
    key = team if lookup == "name" else get_environment(db, admin, team).id
    with pytest.raises(NotFound) as hidden:
        get_environment(db, outsider, key)
    with pytest.raises(NotFound) as missing:
        get_environment(db, outsider, "does-not-exist")
    # Same wording apart from the name: existence does not leak.
    assert str(hidden.value).replace(key, "X") == str(missing.value).replace("does-not-exist", "X")


def test_non_member_cannot_use_environment_at_all(db, team, make_user) -> None:
    outsider = make_user("eve")
    with pytest.raises(NotFound):
        create_connector(db, outsider, team, PACKAGE)
    with pytest.raises(NotFound):
        list_members(db, outsider, team)


def test_only_platform_admins_create_environments(db, team, make_user) -> None:
    ada = make_user("ada", environment=team, role="admin")
    with pytest.raises(PermissionDenied):
        create_environment(db, ada, "mine")


@pytest.mark.parametrize(
    ("name", "error"),
    [
        pytest.param("team", Conflict, id="duplicate"),
        pytest.param("Bad Name", InputError, id="not-a-slug"),
        pytest.param("-x", InputError, id="leading-hyphen"),
        pytest.param("6f1c1a52-0c1e-4c7e-9d0a-3d5b7d0e2f11", InputError, id="uuid-shaped"),
    ],
)
def test_create_environment_rejects(db, admin, team, name, error) -> None:
    with pytest.raises(error):
        create_environment(db, admin, name)


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        pytest.param("user", False, id="user"),
        pytest.param("maker", False, id="maker"),
        pytest.param("admin", True, id="admin"),
    ],
)
def test_only_environment_admins_manage_members(db, team, make_user, role, allowed) -> None:
    caller = make_user("carol", environment=team, role=role)
    make_user("dave")
    if allowed:
        assert add_member(db, caller, team, "dave", "maker").role == "maker"
    else:
        with pytest.raises(PermissionDenied):
            add_member(db, caller, team, "dave", "maker")


def test_add_member_changes_role_and_remove_member(db, admin, team, make_user) -> None:
    make_user("ada", environment=team, role="user")
    add_member(db, admin, team, "ada", "maker")
    # The environment's creator is its admin.
    members = [(m.username, m.role) for m in list_members(db, admin, team)]
    assert members == [("ada", "maker"), ("root", "admin")]
    remove_member(db, admin, team, "ada")
    assert [m.username for m in list_members(db, admin, team)] == ["root"]
    with pytest.raises(NotFound):
        remove_member(db, admin, team, "ada")


@pytest.mark.parametrize(
    ("username", "role", "error"),
    [
        pytest.param("nobody", "user", NotFound, id="unknown-user"),
        pytest.param("ada", "owner", InputError, id="unknown-role"),
    ],
)
def test_add_member_rejects(db, admin, team, make_user, username, role, error) -> None:
    make_user("ada")
    with pytest.raises(error):
        add_member(db, admin, team, username, role)
