from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from tether.errors import ConfigurationError, Conflict
from tether.store import (
    AuditLog,
    Connectors,
    Database,
    Environments,
    PersonalAccessToken,
    Tokens,
    Users,
    create_engine_for,
    utcnow,
)


def _user(s, username="ada"):
    return Users(s).add(username, password_hash=None, display_name=username.title())


def test_users_and_memberships(db: Database) -> None:
    with db.session() as s:
        ada = _user(s)
        env = Environments(s).add("team", display_name="Team")
        Environments(s).set_role(env.id, ada.id, "user")
        Environments(s).set_role(env.id, ada.id, "maker")  # changes, does not duplicate
    with db.session() as s:
        assert Users(s).by_username("ada").id == ada.id
        assert Users(s).count() == 1
        assert Environments(s).find("team").id == Environments(s).find(env.id).id == env.id
        assert [(e.name, role) for e, role in Environments(s).for_user(ada.id)] == [("team", "maker")]
        assert [m.user.username for m in Environments(s).members(env.id)] == ["ada"]
        assert Environments(s).remove_member(env.id, ada.id)
        assert not Environments(s).remove_member(env.id, ada.id)


def test_unique_constraints_become_conflict(db: Database) -> None:
    with db.session() as s:
        _user(s)
    with pytest.raises(Conflict), db.session() as s:
        _user(s)
    with db.session() as s:
        assert Users(s).count() == 1  # the failed unit of work was rolled back


def test_foreign_keys_are_enforced(db: Database) -> None:
    # SQLite ignores foreign keys unless told; the engine turns them on.
    with pytest.raises(Conflict), db.session() as s:
        Environments(s).set_role("no-such-env", "no-such-user", "user")


def test_unit_of_work_rolls_back_on_error(db: Database) -> None:
    with pytest.raises(KeyError), db.session() as s:
        _user(s)
        raise KeyError("boom")
    with db.session() as s:
        assert Users(s).by_username("ada") is None


def test_datetimes_come_back_aware_utc(db: Database) -> None:
    paris = timezone(timedelta(hours=2))
    moment = datetime(2030, 5, 17, 14, 30, 15, 123456, tzinfo=paris)
    with db.session() as s:
        user = _user(s)
        token = Tokens(s).add(
            PersonalAccessToken(
                user_id=user.id, name="t", token_hash="0" * 64, prefix="tth_x", expires_at=moment
            )
        )
    with db.session() as s:
        stored = Tokens(s).get(token.id)
        assert stored.expires_at == moment and stored.expires_at.tzinfo == UTC
        assert stored.created_at.tzinfo == UTC and abs(stored.created_at - utcnow()) < timedelta(minutes=1)
        assert Tokens(s).by_hash("0" * 64).id == token.id
        assert [t.id for t in Tokens(s).for_user(user.id)] == [token.id]


def test_naive_datetimes_are_refused(db: Database) -> None:
    with pytest.raises(Exception, match="naive datetime"), db.session() as s:
        user = _user(s)
        Tokens(s).add(
            PersonalAccessToken(
                user_id=user.id, name="t", token_hash="1" * 64, prefix="p", expires_at=datetime(2030, 1, 1)
            )
        )


def test_connector_revisions_and_cascade(db: Database) -> None:
    files_v1 = {"apiDefinition.swagger.json": b"{}", "icon.png": b"\x89PNG\x00\xff"}
    with db.session() as s:
        env = Environments(s).add("team", display_name="Team")
        connectors = Connectors(s)
        connector = connectors.add(env.id, "pets", display_name="Pets", created_by=None)
        connectors.add_revision(connector, files_v1, created_by=None, note="one")
        connectors.add_revision(connector, {"apiDefinition.swagger.json": b"[]"}, created_by=None)
    with db.session() as s:
        connectors = Connectors(s)
        found = connectors.find(env.id, "pets", for_update=True)
        assert found.current_revision == 2
        assert [r.number for r in connectors.revisions(found.id)] == [1, 2]
        assert connectors.files(connectors.revision(found.id, 1)) == files_v1
        assert connectors.find("other-env", found.id) is None
        assert connectors.name_taken(env.id, "pets") and not connectors.name_taken(env.id, "cats")
        connectors.delete(found)
    with db.session() as s:
        assert s.execute(text("SELECT count(*) FROM connector_revision_files")).scalar() == 0


def test_audit_log_filters_newest_first(db: Database) -> None:
    with db.session() as s:
        log = AuditLog(s)
        log.record("connector.create", actor="ada", environment="e1", target="connector:1")
        log.record("token.create", actor="ada", target="token:1", detail={"name": "laptop"})
    with db.session() as s:
        log = AuditLog(s)
        assert {e.action for e in log.list()} == {"connector.create", "token.create"}
        assert [e.action for e in log.list(environment="e1")] == ["connector.create"]
        assert log.list(action="token.create")[0].detail == {"name": "laptop"}


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        pytest.param("postgresql://u@localhost/db", "postgresql+psycopg", id="postgresql"),
        pytest.param("postgres://u@localhost/db", "postgresql+psycopg", id="postgres-alias"),
        pytest.param("postgresql+psycopg://u@localhost/db", "postgresql+psycopg", id="explicit-driver"),
        pytest.param("sqlite://", "sqlite", id="sqlite-memory"),
    ],
)
def test_create_engine_for_maps_drivers(url: str, driver: str) -> None:
    engine = create_engine_for(url)
    assert engine.url.drivername == driver
    engine.dispose()


@pytest.mark.parametrize(
    "url",
    [pytest.param("mysql://u@h/db", id="unsupported"), pytest.param("::not a url::", id="unreadable")],
)
def test_create_engine_for_rejects(url: str) -> None:
    with pytest.raises(ConfigurationError):
        create_engine_for(url)


def test_sqlite_engine_settings(tmp_path) -> None:
    path = tmp_path / "nested" / "folder" / "tether.db"
    with Database(f"sqlite:///{path}") as db, db.engine.connect() as connection:
        assert path.parent.is_dir()
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000
    assert "tether.db" in repr(db)


def test_database_repr_hides_password() -> None:
    db = Database("postgresql://tether:hunter2@localhost/tether")
    assert "hunter2" not in repr(db)
    db.close()
