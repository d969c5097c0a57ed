from __future__ import annotations

import json

import pytest

from tether.definition import ConnectorPackage, package_from_files
from tether.errors import Conflict, InputError, NotFound, PermissionDenied
from tether.services import (
    create_connector,
    delete_connector,
    get_connector,
    get_revision_files,
    list_connectors,
    list_revisions,
    rollback_connector,
    share_resource,
    update_connector,
)
from tether.store import AuditLog, ConnectorRevision, ConnectorRevisionFile


def package(
    title: str = "Petstore API", *, version: str = "1", icon: bytes | None = None
) -> ConnectorPackage:
    """A small but realistic paconn package."""
    files = {
        "apiDefinition.swagger.json": json.dumps(
            {"swagger": "2.0", "info": {"title": title, "version": version}, "paths": {}}
        ).encode(),
        "apiProperties.json": b'{"properties": {"connectionParameters": {}}}',
    }
    if icon is not None:
        files["icon.png"] = icon
    return package_from_files(files)


# Every byte value, to prove binary files come back untouched.
ICON = bytes(range(256)) * 4


def test_create_connector_derives_name_and_title(db, team, make_user) -> None:
    ada = make_user("ada", environment=team, role="maker")
    info = create_connector(db, ada, team, package("Pet Store (v2)", icon=ICON), note="first")
    assert (info.name, info.display_name, info.current_revision) == ("pet-store-v2", "Pet Store (v2)", 1)
    assert (info.environment, info.created_by) == (team, "ada")
    assert get_connector(db, ada, team, "pet-store-v2") == info
    assert get_connector(db, ada, team, info.id) == info
    assert list_connectors(db, ada, team) == [info]
    [revision] = list_revisions(db, ada, team, info.id)
    assert (revision.number, revision.note, revision.created_by) == (1, "first", "ada")
    assert revision.files == ("apiDefinition.swagger.json", "apiProperties.json", "icon.png")


def test_download_any_revision_equals_upload(db, team, make_user) -> None:
    ada = make_user("ada", environment=team, role="maker")
    uploads = [package(version=str(n), icon=ICON[n:]) for n in range(1, 4)]
    info = create_connector(db, ada, team, uploads[0], name="pets")
    for files in uploads[1:]:
        info = update_connector(db, ada, team, "pets", files, note="bump")
    assert info.current_revision == 3
    for number, upload in enumerate(uploads, start=1):
        assert get_revision_files(db, ada, team, "pets", number) == upload.files
    assert get_revision_files(db, ada, team, "pets") == uploads[-1].files


def test_rollback_adds_a_new_revision(db, team, make_user) -> None:
    ada = make_user("ada", environment=team, role="maker")
    v1, v2 = package(version="1"), package(version="2", icon=ICON)
    create_connector(db, ada, team, v1, name="pets")
    update_connector(db, ada, team, "pets", v2)
    info = rollback_connector(db, ada, team, "pets", 1)
    assert info.current_revision == 3
    assert get_revision_files(db, ada, team, "pets") == v1.files
    assert get_revision_files(db, ada, team, "pets", 2) == v2.files  # history intact
    assert [(r.number, r.note) for r in list_revisions(db, ada, team, "pets")] == [
        (1, None),
        (2, None),
        (3, "Rollback to revision 1"),
    ]
    with pytest.raises(NotFound):
        rollback_connector(db, ada, team, "pets", 9)


def test_revisions_are_immutable_in_the_store(db, team, make_user) -> None:
    ada = make_user("ada", environment=team, role="maker")
    create_connector(db, ada, team, package(), name="pets")
    with pytest.raises(RuntimeError, match="immutable"), db.session() as s:
        s.query(ConnectorRevision).one().note = "rewritten"
    with pytest.raises(RuntimeError, match="immutable"), db.session() as s:
        s.query(ConnectorRevisionFile).first().content = b"{}"
    assert get_revision_files(db, ada, team, "pets", 1) == package().files


def test_delete_connector_removes_history_and_is_audited(db, team, make_user) -> None:
    ada = make_user("ada", environment=team, role="maker")
    info = create_connector(db, ada, team, package(), name="pets")
    update_connector(db, ada, team, "pets", package(version="2"))
    rollback_connector(db, ada, team, "pets", 1)
    delete_connector(db, ada, team, "pets")
    with pytest.raises(NotFound):
        get_connector(db, ada, team, "pets")
    with pytest.raises(NotFound):
        get_revision_files(db, ada, team, info.id, 1)
    with db.session() as s:
        assert s.query(ConnectorRevision).count() == 0
        assert s.query(ConnectorRevisionFile).count() == 0
        events = [
            (e.action, e.actor, e.detail["revision"])
            for e in reversed(AuditLog(s).list())
            if e.target == f"connector:{info.id}"
        ]
    assert sorted(events) == sorted(
        [
            ("connector.create", "ada", 1),
            ("connector.update", "ada", 2),
            ("connector.rollback", "ada", 3),
            ("connector.delete", "ada", 3),
        ]
    )
    # The name is free again.
    assert create_connector(db, ada, team, package(), name="pets").current_revision == 1


@pytest.mark.parametrize(
    ("role", "can_change"),
    [
        pytest.param("user", False, id="user"),
        pytest.param("maker", True, id="maker"),
        pytest.param("admin", True, id="admin"),
    ],
)
def test_roles(db, admin, team, make_user, role, can_change) -> None:
    create_connector(db, admin, team, package(), name="pets")
    caller = make_user("carol", environment=team, role=role)
    if role != "admin":  # unshared, the admin's connector is invisible to others
        with pytest.raises(NotFound):
            get_revision_files(db, caller, team, "pets")
    # A co-owner (Can edit) downloads; changing it also needs the maker role.
    share_resource(db, admin, team, "connector", "pets", "user:carol", "edit")
    assert get_revision_files(db, caller, team, "pets") == package().files
    changes = [
        lambda: create_connector(db, caller, team, package(), name="other"),
        lambda: update_connector(db, caller, team, "pets", package(version="2")),
        lambda: rollback_connector(db, caller, team, "pets", 1),
        lambda: delete_connector(db, caller, team, "pets"),
    ]
    for change in changes:
        if can_change:
            change()
        else:
            with pytest.raises(PermissionDenied):
                change()


def test_connectors_are_scoped_to_their_environment(db, admin, team, make_user) -> None:
    from tether.services import create_environment

    create_environment(db, admin, "lab")
    info = create_connector(db, admin, team, package(), name="pets")
    ada = make_user("ada", environment="lab", role="admin")
    with pytest.raises(NotFound):
        get_connector(db, admin, "lab", info.id)
    with pytest.raises(NotFound):
        get_connector(db, ada, team, info.id)
    assert create_connector(db, ada, "lab", package(), name="pets").id != info.id  # same name elsewhere


def test_duplicate_name_conflicts(db, admin, team) -> None:
    create_connector(db, admin, team, package("Pets"))
    with pytest.raises(Conflict, match="pets"):
        create_connector(db, admin, team, package("Pets"))


@pytest.mark.parametrize(
    ("upload", "name"),
    [
        pytest.param(package("日本語"), None, id="title-without-slug"),
        pytest.param(package(), "Not A Slug", id="bad-name"),
    ],
)
def test_create_connector_rejects_bad_names(db, admin, team, upload, name) -> None:
    with pytest.raises(InputError):
        create_connector(db, admin, team, upload, name=name)
    assert list_connectors(db, admin, team) == []


def test_update_can_rename_display_name(db, admin, team) -> None:
    create_connector(db, admin, team, package(), name="pets")
    info = update_connector(db, admin, team, "pets", package(version="2"), display_name="Pets!")
    assert (info.display_name, info.current_revision) == ("Pets!", 2)
    assert info.updated_at >= info.created_at


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda db, p, env: get_connector(db, p, env, "nope"), id="get"),
        pytest.param(lambda db, p, env: update_connector(db, p, env, "nope", package()), id="update"),
        pytest.param(lambda db, p, env: delete_connector(db, p, env, "nope"), id="delete"),
        pytest.param(lambda db, p, env: list_revisions(db, p, env, "nope"), id="revisions"),
        pytest.param(lambda db, p, env: get_revision_files(db, p, env, "nope"), id="files"),
    ],
)
def test_missing_connector_is_not_found(db, admin, team, call) -> None:
    with pytest.raises(NotFound):
        call(db, admin, team)


def test_concurrent_updates_get_distinct_revision_numbers(db, admin, team) -> None:
    from concurrent.futures import ThreadPoolExecutor

    create_connector(db, admin, team, package(), name="pets")

    def update(n: int) -> int:
        return update_connector(db, admin, team, "pets", package(version=str(n))).current_revision

    with ThreadPoolExecutor(max_workers=4) as pool:
        numbers = list(pool.map(update, range(12)))
    assert sorted(numbers) == list(range(2, 14))
    assert [r.number for r in list_revisions(db, admin, team, "pets")] == list(range(1, 14))
