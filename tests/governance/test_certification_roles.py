"""Every certification, catalog and data-policy operation authorized by role, through the real API:
each cell of the governance table in ``tests/api/permission_table.py`` (and docs/permissions.md)."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import httpx
import pytest

from tests.api.permission_table import CALLERS, GOVERNANCE, governance_expected
from tests.governance._kit import API_KEY, README, definition, package_zip, png
from tests.governance.conftest import Gov

# Which test user stands for each caller of the table.
ACTOR = {
    "platform admin": "admin",
    "certifier": "cora",
    "env admin": "eve",
    "maker": "ada",
    "user": "uma",
    "none": "nora",
}
_serial = itertools.count(1)


@pytest.fixture(scope="module")
def stage(gov: Gov) -> dict[str, str]:
    """An environment with every caller in place, a published catalog entry and a pending request."""
    env = gov.environment(makers=("ada", "bob"), users=("uma", "cora"), admins=("eve",))
    package = package_zip(definition(gov.greeter), icon=png(32, 32))
    ids = {}
    for name in ("roles-published", "roles-pending"):
        gov.connector("bob", env, package, name)
        connection = gov.connection("bob", env, name, API_KEY)
        answer = gov["bob"].post(
            f"/environments/{env}/connectors/{name}/certification",
            json={"connection": connection, "readme": README},
        )
        assert answer.status_code == 201, answer.text
        ids[name] = answer.json()["id"]
    approve = {"verdict": "approve", "comment": None}
    assert (
        gov["cora"].post(f"/certification/requests/{ids['roles-published']}/reviews", json=approve).is_success
    )
    return {"env": env, "pending": ids["roles-pending"]}


def _operations(stage: dict[str, str]) -> dict[str, Callable[[httpx.Client], httpx.Response]]:
    env, pending = stage["env"], stage["pending"]
    comment = {"verdict": "comment", "comment": "A note."}  # leaves the request pending for the next cell
    return {
        "read the review queue": lambda c: c.get("/certification/requests"),
        "review a request": lambda c: c.post(f"/certification/requests/{pending}/reviews", json=comment),
        "grant the certifier role": lambda c: c.put("/certifiers/cora"),
        "list the catalog": lambda c: c.get("/catalog"),
        "install from the catalog": lambda c: c.post(
            "/catalog/roles-published/install", json={"environment": env, "name": f"copy-{next(_serial)}"}
        ),
        "read the data policy": lambda c: c.get(f"/environments/{env}/data-policy"),
        "change the data policy": lambda c: c.patch(
            f"/environments/{env}/data-policy", json={"default_group": "non-business"}
        ),
        "classify a connector": lambda c: c.put(
            f"/environments/{env}/data-policy/connectors/builtin:http", json={"group": None}
        ),
    }


@pytest.mark.parametrize("caller", CALLERS)
def test_each_caller_gets_what_the_table_says(gov: Gov, stage: dict[str, str], caller: str) -> None:
    client = gov[ACTOR[caller]]
    answered = {}
    for operation, call in _operations(stage).items():
        response = call(client)
        assert response.status_code < 500, response.text
        answered[operation] = "ok" if response.is_success else str(response.status_code)
    assert answered == {operation: governance_expected(operation, caller) for operation in GOVERNANCE}


def test_submitting_needs_to_be_able_to_update_the_connector(gov: Gov) -> None:
    env = gov.environment(makers=("ada", "bob"), users=("uma",))
    gov.connector("ada", env, package_zip(definition(gov.greeter), icon=png(32, 32)), "roles-owned")
    connection = gov.connection("ada", env, "roles-owned", API_KEY)
    body = {"connection": connection, "readme": README}
    path = f"/environments/{env}/connectors/roles-owned/certification"
    assert gov["bob"].post(path, json=body).status_code == 404  # not shared with him: not visible
    share = {"grantee": "user:bob", "permission": "use"}
    assert gov["ada"].put(f"/environments/{env}/connectors/roles-owned/access", json=share).is_success
    denied = gov["bob"].post(path, json=body)
    assert denied.status_code == 403 and "Can edit" in denied.json()["detail"]
    assert gov["bob"].get(path).status_code == 200  # readers see its certification state


def test_the_user_list_shows_who_certifies(gov: Gov) -> None:
    users = {user["username"]: user["is_certifier"] for user in gov["admin"].get("/users").json()["items"]}
    assert users["cora"] is True and users["ada"] is False


def test_nobody_reviews_their_own_submission(gov: Gov) -> None:
    env = gov.environment(makers=("cora",), users=())
    gov.connector("cora", env, package_zip(definition(gov.greeter), icon=png(32, 32)), "roles-self")
    connection = gov.connection("cora", env, "roles-self", API_KEY)
    submitted = gov["cora"].post(
        f"/environments/{env}/connectors/roles-self/certification",
        json={"connection": connection, "readme": README},
    )
    assert submitted.status_code == 201, submitted.text
    own = gov["cora"].post(
        f"/certification/requests/{submitted.json()['id']}/reviews", json={"verdict": "approve"}
    )
    assert own.status_code == 403 and "your own submission" in own.json()["detail"]
