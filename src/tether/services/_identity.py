"""Identity use cases: the first start, users, passwords and personal access tokens.

Passwords are hashed with Argon2id (slow on purpose: they are guessable). Tokens are 256 random
bits, so they are stored as a plain SHA-256 (fast, because every API request looks one up) and
their plaintext is handed out exactly once, at creation.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from tether.config import Settings
from tether.errors import AuthError, ConfigurationError, Conflict, InputError, NotFound, PermissionDenied
from tether.services._access import Principal
from tether.services._builtin_packages import upgrade_everywhere
from tether.services._environments import DEFAULT_ENVIRONMENT
from tether.services._login_throttle import LoginThrottle
from tether.services._names import check_username
from tether.services._read_cache import DEFAULT_READ_TTL, ReadCache
from tether.store import AuditLog, Database, Environments, PersonalAccessToken, Tokens, User, Users, utcnow

__all__ = [
    "ADMIN_USERNAME",
    "MIN_PASSWORD_LENGTH",
    "TOKEN_PREFIX",
    "BootstrapResult",
    "TokenAuthenticator",
    "TokenInfo",
    "UserInfo",
    "authenticate_password",
    "authenticate_token",
    "bootstrap",
    "create_token",
    "create_user",
    "get_user",
    "hash_token",
    "list_tokens",
    "revoke_token",
]

ADMIN_USERNAME = "admin"
MIN_PASSWORD_LENGTH = 8
TOKEN_PREFIX = "tth_"
# Characters of a token kept in clear to help people recognise it in a list ("tth_3fQ9a…").
_DISPLAY_PREFIX_LENGTH = len(TOKEN_PREFIX) + 6

# last_used_at is for people ("used 3 minutes ago"); rewriting it on every request would turn
# each read into a write.
_LAST_USED_RESOLUTION = timedelta(minutes=1)

_hasher = PasswordHasher()
# Verified against when the username is unknown, so a wrong username costs as long as a wrong
# password and response times do not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True, slots=True)
class UserInfo:
    """A user account, without its password hash."""

    id: str
    username: str
    display_name: str
    email: str | None
    is_admin: bool
    disabled: bool
    created_at: datetime
    is_certifier: bool = False  # reviews connectors submitted for certification


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What may be shown about a token after its creation: never the token itself."""

    id: str
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > utcnow())


@dataclass(frozen=True, slots=True)
class BootstrapResult:
    """What the first start did. ``admin_password`` is set only when Tether generated it.

    The caller prints ``login_hint`` (and the generated password) once; it is not stored anywhere.
    """

    environment_created: bool
    admin_created: bool
    admin_username: str | None = None
    admin_password: str | None = field(default=None, repr=False)
    login_hint: str = ""


def _user_info(user: User) -> UserInfo:
    return UserInfo(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        email=user.email,
        is_admin=user.is_admin,
        disabled=user.disabled,
        created_at=user.created_at,
        is_certifier=user.is_certifier,
    )


def _token_info(token: PersonalAccessToken) -> TokenInfo:
    return TokenInfo(
        id=token.id,
        name=token.name,
        prefix=token.prefix,
        created_at=token.created_at,
        last_used_at=token.last_used_at,
        expires_at=token.expires_at,
        revoked_at=token.revoked_at,
    )


def _hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(f"The password is too short: use at least {MIN_PASSWORD_LENGTH} characters.")
    return _hasher.hash(password)


def hash_token(token: str) -> str:
    """The SHA-256 hex digest stored for a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def bootstrap(db: Database, settings: Settings) -> BootstrapResult:
    """Prepare a fresh installation; safe to call on every start.

    Creates the ``default`` environment if missing and, when no user exists at all, an ``admin``
    user with ``TETHER_ADMIN_PASSWORD`` or a generated password, returned once in the result.
    """
    with db.session() as session:
        environments, users = Environments(session), Users(session)
        environment = environments.find(DEFAULT_ENVIRONMENT)
        environment_created = environment is None
        if environment is None:
            environment = environments.add(DEFAULT_ENVIRONMENT, display_name="Default")
        upgrade_everywhere(session)  # the shipped connectors where they are used, at their shipped files
        if users.count():
            return BootstrapResult(environment_created=environment_created, admin_created=False)
        generated = settings.admin_password is None
        if settings.admin_password is None:
            password = secrets.token_urlsafe(18)
        else:
            password = settings.admin_password.get_secret_value()
        if len(password) < MIN_PASSWORD_LENGTH:
            raise ConfigurationError(
                f"TETHER_ADMIN_PASSWORD is too short: use at least {MIN_PASSWORD_LENGTH} characters."
            )
        admin = users.add(
            ADMIN_USERNAME, password_hash=_hasher.hash(password), display_name="Administrator", is_admin=True
        )
        environments.set_role(environment.id, admin.id, "admin")
        AuditLog(session).record(
            "user.create", actor=None, target=f"user:{admin.id}", detail={"bootstrap": True}
        )
    source = "the generated password below" if generated else "TETHER_ADMIN_PASSWORD"
    return BootstrapResult(
        environment_created=environment_created,
        admin_created=True,
        admin_username=ADMIN_USERNAME,
        admin_password=password if generated else None,
        login_hint=f"Sign in at {settings.public_url} as '{ADMIN_USERNAME}' with {source}.",
    )


def create_user(
    db: Database,
    principal: Principal,
    username: str,
    *,
    password: str | None = None,
    display_name: str | None = None,
    email: str | None = None,
    is_admin: bool = False,
) -> UserInfo:
    """Create a user (platform admins only). Without a password the user can only use tokens."""
    if not principal.is_admin:
        raise PermissionDenied("Only platform administrators can create users.")
    username = check_username(username)
    password_hash = _hash_password(password) if password is not None else None
    with db.session() as session:
        users = Users(session)
        if users.by_username(username) is not None:
            raise Conflict(f"A user named {username!r} already exists.")
        user = users.add(
            username,
            password_hash=password_hash,
            display_name=display_name or username,
            email=email,
            is_admin=is_admin,
        )
        AuditLog(session).record("user.create", actor=principal.username, target=f"user:{user.id}")
        return _user_info(user)


def authenticate_password(
    db: Database,
    username: str,
    password: str,
    *,
    throttle: LoginThrottle | None = None,
    address: str | None = None,
) -> Principal:
    """The principal for a username and password, or :class:`AuthError` (same message for every failure).

    With a ``throttle``, failures count against the user name and the client ``address``; past the
    limit every attempt (even a right one) is :class:`LoginThrottled` until the window has passed.
    """
    if throttle is not None:
        throttle.check(username, address)
    try:
        principal = _check_password(db, username, password)
    except AuthError:
        if throttle is not None:
            throttle.failed(username, address)
        raise
    if throttle is not None:
        throttle.succeeded(username)
    return principal


def _check_password(db: Database, username: str, password: str) -> Principal:
    failure = AuthError("Wrong username or password.")
    with db.session() as session:
        user = Users(session).by_username(username.strip().lower())
        if user is None or user.password_hash is None or user.disabled:
            _verify(_DUMMY_HASH, password)
            raise failure
        if not _verify(user.password_hash, password):
            raise failure
        if _hasher.check_needs_rehash(user.password_hash):
            # Hashing parameters were raised since this password was set: upgrade it now we know it.
            user.password_hash = _hasher.hash(password)
        return Principal(user_id=user.id, username=user.username, is_admin=user.is_admin, via="password")


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_token(
    db: Database, principal: Principal, name: str, *, expires_in: timedelta | None = None
) -> tuple[str, TokenInfo]:
    """Create a personal access token for the caller; the plaintext is returned here and never again."""
    name = name.strip()
    if not name or len(name) > 200:
        raise InputError("A token needs a name of 1-200 characters, such as 'laptop CLI'.")
    if expires_in is not None and expires_in <= timedelta(0):
        raise InputError("A token's lifetime must be positive.")
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    with db.session() as session:
        token = Tokens(session).add(
            PersonalAccessToken(
                user_id=principal.user_id,
                name=name,
                token_hash=hash_token(plaintext),
                prefix=plaintext[:_DISPLAY_PREFIX_LENGTH],
                created_at=now,
                expires_at=now + expires_in if expires_in is not None else None,
            )
        )
        AuditLog(session).record(
            "token.create", actor=principal.username, target=f"token:{token.id}", detail={"name": name}
        )
        return plaintext, _token_info(token)


def list_tokens(db: Database, principal: Principal) -> list[TokenInfo]:
    """The caller's tokens, oldest first, including revoked and expired ones (for the record)."""
    with db.session() as session:
        return [_token_info(token) for token in Tokens(session).for_user(principal.user_id)]


def revoke_token(db: Database, principal: Principal, token_id: str) -> TokenInfo:
    """Revoke one of the caller's tokens (platform admins may revoke anyone's); idempotent.

    Someone else's token is :class:`NotFound`, not forbidden, so token ids cannot be probed.
    """
    with db.session() as session:
        token = Tokens(session).get(token_id)
        if token is None or (token.user_id != principal.user_id and not principal.is_admin):
            raise NotFound(f"Token {token_id!r} not found.")
        if token.revoked_at is None:
            token.revoked_at = utcnow()
            AuditLog(session).record(
                "token.revoke",
                actor=principal.username,
                target=f"token:{token.id}",
                detail={"name": token.name, "owner": token.user.username},
            )
        return _token_info(token)


def authenticate_token(db: Database, token: str) -> Principal:
    """The principal a bearer token belongs to; :class:`AuthError` if unknown, revoked or expired."""
    return _authenticate_token(db, token)[0]


class TokenAuthenticator:
    """:func:`authenticate_token` behind a :class:`ReadCache`: the API's check on every request.

    A token seen moments ago is answered from memory; a revoked token is refused on the next
    request handled by the process that revoked it, and within ``ttl`` seconds by the others.
    """

    def __init__(self, db: Database, *, ttl: float = DEFAULT_READ_TTL) -> None:
        self.db = db
        self._principals: ReadCache[Principal] = ReadCache(db, _TOKEN_TABLES, ttl=ttl)

    async def principal(self, token: str) -> Principal:
        if not token.startswith(TOKEN_PREFIX):
            raise AuthError(_NOT_A_TOKEN)
        return await self._principals.read_through(hash_token(token), lambda: self._read(token))

    def _read(self, token: str) -> tuple[Principal, float | None]:
        principal, expires_at = _authenticate_token(self.db, token)
        return principal, None if expires_at is None else (expires_at - utcnow()).total_seconds()


_TOKEN_TABLES = (PersonalAccessToken.__tablename__, User.__tablename__)
_NOT_A_TOKEN = "Not a Tether token: personal access tokens start with 'tth_'."


def _authenticate_token(db: Database, token: str) -> tuple[Principal, datetime | None]:
    if not token.startswith(TOKEN_PREFIX):
        raise AuthError(_NOT_A_TOKEN)
    digest = hash_token(token)
    with db.session() as session:
        row = Tokens(session).by_hash(digest)
        if row is None:
            raise AuthError("Unknown token: check it was copied whole, or create a new one.")
        now = utcnow()
        if row.revoked_at is not None:
            raise AuthError("This token was revoked: create a new one.")
        if row.expires_at is not None and row.expires_at <= now:
            raise AuthError("This token has expired: create a new one.")
        if row.user.disabled:
            raise AuthError("This account is disabled.")
        if row.last_used_at is None or now - row.last_used_at > _LAST_USED_RESOLUTION:
            row.last_used_at = now
        principal = Principal(
            user_id=row.user.id, username=row.user.username, is_admin=row.user.is_admin, via=f"token:{row.id}"
        )
        return principal, row.expires_at


def get_user(db: Database, principal: Principal, username: str) -> UserInfo:
    """A user's account details: one's own, or anyone's for platform admins."""
    with db.session() as session:
        user = Users(session).by_username(username.strip().lower())
        if user is None or (user.id != principal.user_id and not principal.is_admin):
            raise NotFound(f"User {username!r} not found.")
        return _user_info(user)
