"""Environment variables in services: who may do what, and secure values across key rotation."""

from __future__ import annotations

import pytest

from tether.errors import InputError, PermissionDenied
from tether.secrets import KeyRing
from tether.services import (
    create_flow,
    delete_environment_variable,
    list_environment_variables,
    rotate_keys,
    set_environment_variable,
)
from tether.services._environment_variables import environment_values
from tether.store import EnvironmentVariables

FLOW = {"triggers": {"manual": {"type": "Request", "kind": "Http"}}, "actions": {}}


@pytest.fixture
def ring() -> KeyRing:
    return KeyRing.from_keys(KeyRing.generate_key())


def test_roles(db, team, admin, make_user, ring) -> None:
    maker = make_user("mia", environment=team, role="maker")
    user = make_user("uma", environment=team, role="user")
    set_environment_variable(db, admin, team, "Url", "https://x")
    assert [v.name for v in list_environment_variables(db, maker, team)] == ["Url"]
    with pytest.raises(PermissionDenied, match="admin role"):
        set_environment_variable(db, maker, team, "Url", "https://y")
    with pytest.raises(PermissionDenied, match="admin role"):
        delete_environment_variable(db, maker, team, "Url")
    with pytest.raises(PermissionDenied, match="maker role"):
        list_environment_variables(db, user, team)
    with pytest.raises(InputError, match="encryption keys"):
        set_environment_variable(db, admin, team, "Key", "k", secure=True)


def test_secure_values_survive_key_rotation(db, team, admin, ring) -> None:
    flow = create_flow(db, admin, team, FLOW, name="f")
    set_environment_variable(db, admin, team, "Key", "k-1", secure=True, keyring=ring)
    set_environment_variable(db, admin, team, "Plain", "p")
    assert environment_values(db, flow.id, ring) == {"Key": "k-1", "Plain": "p"}
    assert environment_values(db, flow.id, None) == {"Plain": "p"}  # no key ring: secure ones left out

    rotate_keys(db, admin, ring)
    with db.session() as session:
        [stored] = [row for row in EnvironmentVariables(session).all_secure()]
        assert ring.is_current(stored.value)
    assert environment_values(db, flow.id, ring)["Key"] == "k-1"
