from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import replace
from datetime import timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from tether.config import load_settings
from tether.errors import AuthError, ConfigurationError, Conflict, InputError, NotFound, PermissionDenied
from tether.services import (
    ADMIN_USERNAME,
    DEFAULT_ENVIRONMENT,
    Principal,
    authenticate_password,
    authenticate_token,
    bootstrap,
    create_token,
    create_user,
    get_environment,
    list_tokens,
    revoke_token,
)
from tether.store import AuditLog, Database, PersonalAccessToken, Tokens, User, Users, utcnow


def _all_cells(db: Database) -> list[object]:
    """Every value of every row of every table, to search for leaked secrets."""
    from tether.store import Base

    cells: list[object] = []
    with db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(table.select()):
                cells.extend(row)
    return cells


def test_bootstrap_creates_default_environment_and_admin_once(db, settings) -> None:
    first = bootstrap(db, settings)
    assert first.environment_created and first.admin_created
    assert first.admin_username == ADMIN_USERNAME
    assert first.admin_password and len(first.admin_password) >= 16
    assert settings.public_url in first.login_hint
    assert first.admin_password not in repr(first)

    principal = authenticate_password(db, ADMIN_USERNAME, first.admin_password)
    assert principal.is_admin
    assert get_environment(db, principal, DEFAULT_ENVIRONMENT).role == "admin"

    second = bootstrap(db, settings)
    assert not second.environment_created and not second.admin_created
    assert second.admin_password is None


def test_bootstrap_uses_configured_admin_password(db, settings) -> None:
    configured = settings.model_copy(update={"admin_password": SecretStr("correct horse battery")})
    result = bootstrap(db, configured)
    assert result.admin_created and result.admin_password is None
    assert "TETHER_ADMIN_PASSWORD" in result.login_hint
    assert authenticate_password(db, "admin", "correct horse battery").username == "admin"


def test_bootstrap_refuses_short_configured_password(db, tmp_path) -> None:
    settings = load_settings(home=tmp_path, database_url=str(db.url), admin_password="short")
    with pytest.raises(ConfigurationError):
        bootstrap(db, settings)


def test_password_is_stored_as_argon2_hash(db, admin) -> None:
    create_user(db, admin, "Ada", password="s3cret-password", email="ada@example.org")
    with db.session() as s:
        user = Users(s).by_username("ada")
        assert user is not None
        assert user.password_hash.startswith("$argon2id$")
    assert "s3cret-password" not in [str(cell) for cell in _all_cells(db)]
    assert authenticate_password(db, "ADA", "s3cret-password").username == "ada"


@pytest.mark.parametrize(
    ("username", "password"),
    [
        pytest.param("ada", "wrong-password", id="wrong-password"),
        pytest.param("nobody", "s3cret-password", id="unknown-user"),
        pytest.param("tokenonly", "s3cret-password", id="no-password-set"),
    ],
)
def test_authenticate_password_failures(db, admin, username, password) -> None:
    create_user(db, admin, "ada", password="s3cret-password")
    create_user(db, admin, "tokenonly")
    with pytest.raises(AuthError, match="Wrong username or password"):
        authenticate_password(db, username, password)


def test_disabled_user_cannot_sign_in(db, admin) -> None:
    create_user(db, admin, "ada", password="s3cret-password")
    with db.session() as s:
        Users(s).by_username("ada").disabled = True
    with pytest.raises(AuthError):
        authenticate_password(db, "ada", "s3cret-password")


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        pytest.param({"username": "bad name"}, InputError, id="bad-username"),
        pytest.param({"username": "ada", "password": "short"}, InputError, id="short-password"),
        pytest.param({"username": "root"}, Conflict, id="duplicate"),
    ],
)
def test_create_user_rejects(db, admin, kwargs, error) -> None:
    with pytest.raises(error):
        create_user(db, admin, **kwargs)


def test_only_admins_create_users(db, make_user) -> None:
    ada = make_user("ada")
    with pytest.raises(PermissionDenied):
        create_user(db, ada, "bob")


def test_token_is_shown_once_and_stored_hashed(db, make_user) -> None:
    ada = make_user("ada")
    plaintext, info = create_token(db, ada, "laptop")
    assert plaintext.startswith("tth_") and len(plaintext) >= 4 + 43
    assert info.prefix == plaintext[: len(info.prefix)] and len(info.prefix) < 16
    assert plaintext not in repr(info)

    cells = [
        cell.decode(errors="ignore") if isinstance(cell, bytes) else str(cell) for cell in _all_cells(db)
    ]
    assert not [cell for cell in cells if plaintext in cell]
    with db.session() as s:
        row = s.get(PersonalAccessToken, info.id)
        assert row.token_hash == hashlib.sha256(plaintext.encode()).hexdigest()

    assert list_tokens(db, ada) == [info]
    # The same caller, signed in through this token (the audit log's "via").
    assert authenticate_token(db, plaintext) == replace(ada, via=f"token:{info.id}")


def test_authenticate_token_records_last_use(db, make_user) -> None:
    ada = make_user("ada")
    plaintext, info = create_token(db, ada, "ci")
    assert info.last_used_at is None
    before = utcnow()
    authenticate_token(db, plaintext)
    [listed] = list_tokens(db, ada)
    assert listed.last_used_at is not None and listed.last_used_at >= before - timedelta(seconds=1)
    assert listed.last_used_at.tzinfo is not None


def test_revoked_token_is_rejected(db, make_user) -> None:
    ada = make_user("ada")
    plaintext, info = create_token(db, ada, "laptop")
    revoked = revoke_token(db, ada, info.id)
    assert revoked.revoked_at is not None and not revoked.active
    assert revoke_token(db, ada, info.id).revoked_at == revoked.revoked_at  # idempotent
    with pytest.raises(AuthError, match="revoked"):
        authenticate_token(db, plaintext)


def test_expired_token_is_rejected(db, make_user) -> None:
    ada = make_user("ada")
    plaintext, info = create_token(db, ada, "short-lived", expires_in=timedelta(hours=1))
    assert info.active and info.expires_at > info.created_at
    with db.session() as s:
        Tokens(s).get(info.id).expires_at = utcnow() - timedelta(seconds=1)
    with pytest.raises(AuthError, match="expired"):
        authenticate_token(db, plaintext)


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("tth_" + "A" * 43, id="unknown"),
        pytest.param("ghp_abcdef", id="foreign-prefix"),
        pytest.param("", id="empty"),
    ],
)
def test_unknown_tokens_are_rejected(db, token) -> None:
    with pytest.raises(AuthError):
        authenticate_token(db, token)


def test_token_of_disabled_user_is_rejected(db, make_user) -> None:
    ada = make_user("ada")
    plaintext, _ = create_token(db, ada, "laptop")
    with db.session() as s:
        s.scalar(select(User).where(User.username == "ada")).disabled = True
    with pytest.raises(AuthError):
        authenticate_token(db, plaintext)


def test_cannot_revoke_someone_elses_token(db, make_user, admin) -> None:
    ada, bob = make_user("ada"), make_user("bob")
    _, info = create_token(db, ada, "laptop")
    with pytest.raises(NotFound):
        revoke_token(db, bob, info.id)
    assert revoke_token(db, admin, info.id).revoked_at is not None  # platform admins may


@pytest.mark.parametrize(
    ("name", "expires_in"),
    [
        pytest.param("  ", None, id="blank-name"),
        pytest.param("x" * 201, None, id="long-name"),
        pytest.param("ok", timedelta(0), id="zero-lifetime"),
    ],
)
def test_create_token_rejects(db, make_user, name, expires_in) -> None:
    with pytest.raises(InputError):
        create_token(db, make_user("ada"), name, expires_in=expires_in)


def test_token_events_are_audited(db, make_user) -> None:
    ada = make_user("ada")
    plaintext, info = create_token(db, ada, "laptop")
    revoke_token(db, ada, info.id)
    with db.session() as s:
        events = AuditLog(s).list()
        actions = [(e.action, e.actor, e.target) for e in events if e.action.startswith("token.")]
        assert sorted(actions) == [
            ("token.create", "ada", f"token:{info.id}"),
            ("token.revoke", "ada", f"token:{info.id}"),
        ]
        assert all(plaintext not in str(e.detail) for e in events)


def test_principal_is_a_value() -> None:
    principal = Principal(user_id="1", username="ada")
    assert principal == Principal(user_id="1", username="ada", is_admin=False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        principal.is_admin = True  # type: ignore[misc]
