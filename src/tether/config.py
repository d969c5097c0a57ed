"""Process settings, read once from ``TETHER_*`` environment variables.

This is the only module that looks at the environment: the CLI and server call
:func:`load_settings` at start-up and pass the frozen :class:`Settings` down, so no layer
changes behaviour because somebody exported a variable half-way through a run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEFAULT_HOME", "DEFAULT_PUBLIC_URL", "Settings", "load_settings"]

DEFAULT_HOME = Path("~/.tether")
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"


class Settings(BaseSettings):
    """Where Tether keeps its state and how it is reached.

    Every field can be set as ``TETHER_<FIELD>`` (``TETHER_DATABASE_URL=postgresql://...``) or passed
    to :func:`load_settings` by a CLI flag.
    """

    model_config = SettingsConfigDict(env_prefix="TETHER_", frozen=True, extra="forbid")

    home: Path = Field(
        default=DEFAULT_HOME,
        description="Folder for Tether's local state: the SQLite database, keys and logs.",
    )
    database_url: str = Field(
        default="",
        description=(
            "SQLAlchemy URL of the database. Empty means a SQLite file 'tether.db' under home; "
            "'postgresql://user:pass@host/db' selects PostgreSQL (driven by psycopg 3)."
        ),
    )
    public_url: str = Field(
        default=DEFAULT_PUBLIC_URL,
        description="Base URL users and OAuth providers reach this server at (for links and redirect URIs).",
    )
    admin_password: SecretStr | None = Field(
        default=None,
        description="Password of the 'admin' user made on first start; if unset, one is made and shown once.",
    )
    master_key: SecretStr | None = Field(
        default=None,
        description=(
            "Fernet key(s) that encrypt connection secrets at rest, comma-separated, newest first. "
            "If unset, a key file 'master.key' (mode 0600) under home is created on first use."
        ),
    )
    broker_url: str = Field(
        default="",
        description=(
            "Celery broker URL ('redis://127.0.0.1:6379/0') of the distributed mode: 'tether serve' submits "
            "runs to 'tether worker' processes through it. Empty means embedded mode (runs execute inside "
            "'tether serve')."
        ),
    )
    broker_visibility_timeout: float = Field(
        default=300.0,
        gt=0,
        description=(
            "Seconds after which a run task taken by a worker that died (never acknowledged) is delivered "
            "to another worker. A run lease in the database keeps a late duplicate from running twice."
        ),
    )

    connection_rate_limit: int = Field(
        default=500,
        ge=0,
        description=(
            "Calls per minute each connection may make through one server process (then 429 with "
            "Retry-After); 0 turns the limit off."
        ),
    )
    upstream_deadline: float = Field(
        default=120.0,
        gt=0,
        le=120.0,
        description=(
            "Seconds one call to an upstream API may take in all (attempts, retries, redirects, 202 "
            "polls) before the server answers 504 upstream-timeout. At most 120, so the CLI, which "
            "waits 150 s, always hears the answer."
        ),
    )
    run_retention_days: int = Field(
        default=30,
        ge=1,
        le=3650,
        description="Days a flow run's history (every action's inputs and outputs) is kept before purging.",
    )
    webhook_retry_seconds: str = Field(
        default="10,60,300,1800,7200,21600",
        pattern=r"^\s*\d+(\.\d+)?(\s*,\s*\d+(\.\d+)?)*\s*$",
        description="Webhook deliveries: seconds to wait after each failed attempt, comma separated "
        "(one more attempt than waits; each wait spread by ±10%), then the delivery is marked failed.",
    )
    event_dispatch_seconds: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="Seconds between passes of the event dispatcher (webhook deliveries, alert mails).",
    )
    oidc_issuer: str | None = Field(
        default=None,
        description="Single sign-on: the OpenID Connect provider's issuer URL (its discovery document is "
        "ISSUER/.well-known/openid-configuration). Unset: no SSO.",
    )
    oidc_client_id: str | None = Field(
        default=None, description="Single sign-on: Tether's client id at the provider."
    )
    oidc_client_secret: SecretStr | None = Field(
        default=None,
        description="Single sign-on: Tether's client secret at the provider (none: a public client).",
    )
    oidc_scopes: str = Field(default="openid profile email", description="Single sign-on: scopes to ask for.")
    oidc_groups_claim: str = Field(
        default="groups",
        description="Single sign-on: the claim listing the user's groups; they become Tether groups (source "
        "'sso'), which environment admins give roles ('tether env member add group:NAME --role maker').",
    )
    oidc_allow_hosts: str = Field(
        default="",
        description="Single sign-on: hosts or CIDRs of the provider that the network policy would otherwise "
        "refuse (a provider on a private network or loopback), comma-separated.",
    )
    local_passwords: bool = Field(
        default=True,
        description="Whether users may sign in with a Tether password; turn off to require SSO "
        "(tokens keep working).",
    )

    oauth_token_timeout: float = Field(
        default=30.0,
        gt=0,
        le=300,
        description=(
            "Seconds one call to an OAuth token endpoint may take. Past it the renewal's outcome is "
            "unknown: the current access token keeps serving while valid, else the call answers 504."
        ),
    )
    login_failures_per_minute: int = Field(
        default=5,
        ge=1,
        description=(
            "Wrong passwords allowed per user name, and per client address, within the throttle window "
            "(a minute); beyond it logins are refused with 429 and Retry-After until the window has passed."
        ),
    )
    login_throttle_seconds: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        description="The window, in seconds, over which wrong passwords are counted for login throttling.",
    )

    otlp_endpoint: str = Field(
        default="",
        validation_alias=AliasChoices("otlp_endpoint", "TETHER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"),
        description=(
            "Base URL of an OpenTelemetry collector's OTLP/HTTP receiver ('http://127.0.0.1:4318'); "
            "spans are exported there. Also read from OTEL_EXPORTER_OTLP_ENDPOINT. Empty: no tracing. "
            "Needs the 'observability' extra."
        ),
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description=(
            "Bearer token a Prometheus scraper sends to read /metrics. Unset: /metrics is off (404). "
            "Needs the 'observability' extra."
        ),
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="'json' writes one JSON object per log line with the request, run and trace ids.",
    )

    @model_validator(mode="after")
    def _normalize(self) -> Settings:
        # Settings are frozen, so derived defaults are filled in once here rather than computed by
        # every reader (who might each expand '~' differently).
        home = self.home.expanduser()
        object.__setattr__(self, "home", home)
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{home / 'tether.db'}")
        object.__setattr__(self, "public_url", self.public_url.rstrip("/"))
        return self


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment, with ``overrides`` (from CLI flags) taking precedence.

    Overrides equal to ``None`` are ignored, so a CLI can pass every flag through unconditionally.
    """
    return Settings(**{key: value for key, value in overrides.items() if value is not None})
