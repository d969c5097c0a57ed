"""Alerts by email: each environment's alert settings, and users' alert rules.

The setting names the Mail (SMTP) connection alerts are sent through and the failure digest's
window; it also holds where the senders stopped in the event stream (``digest_cursor``,
``mail_cursor``: event ids), moved forward with a compare-and-set, so two server processes never
send the same mail. A rule is one user's: ``email`` (mail me these event types) or ``no-digest``
(no failure digest: for one flow when ``flow_id`` is set, else for all of the user's flows).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final

from sqlalchemy import JSON, ForeignKey, Integer, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from tether.store._models import Base, new_id, utcnow

__all__ = ["ALERT_RULE_KINDS", "AlertRule", "AlertSetting", "Alerts"]

ALERT_RULE_KINDS: Final = ("email", "no-digest")


class AlertSetting(Base):
    """An environment's alert mail connection, digest window, and the senders' positions."""

    __tablename__ = "alert_settings"

    environment_id: Mapped[str] = mapped_column(
        ForeignKey("environments.id", ondelete="CASCADE"), primary_key=True
    )
    connection_id: Mapped[str | None] = mapped_column(String(36))
    digest_minutes: Mapped[int] = mapped_column(Integer, default=60)
    digest_cursor: Mapped[str | None] = mapped_column(String(26))
    digest_at: Mapped[datetime | None]
    mail_cursor: Mapped[str | None] = mapped_column(String(26))
    updated_by: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AlertRule(Base):
    """One user's alert rule in one environment (see the module docstring)."""

    __tablename__ = "alert_rules"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    environment_id: Mapped[str] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    event_types: Mapped[list[str]] = mapped_column(JSON)
    flow_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Alerts:
    """Alert settings and rules."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def setting(self, environment_id: str) -> AlertSetting | None:
        return self.session.get(AlertSetting, environment_id)

    def put_setting(self, setting: AlertSetting) -> AlertSetting:
        setting = self.session.merge(setting)
        self.session.flush()
        return setting

    def configured(self) -> Sequence[AlertSetting]:
        """Every environment whose alerts have a mail connection."""
        query = select(AlertSetting).where(AlertSetting.connection_id.is_not(None))
        return self.session.scalars(query).all()

    def move_cursor(self, environment_id: str, field: str, old: str | None, new: str, now: datetime) -> bool:
        """Move ``digest_cursor`` or ``mail_cursor`` from ``old`` to ``new``; False if another process did."""
        column = getattr(AlertSetting, field)
        condition = column.is_(None) if old is None else column == old
        values: dict[str, object] = {field: new}
        if field == "digest_cursor":
            values["digest_at"] = now
        statement = (
            update(AlertSetting)
            .where(AlertSetting.environment_id == environment_id, condition)
            .values(**values)
        )
        return bool(getattr(self.session.execute(statement), "rowcount", 0))

    def rules(self, environment_id: str, *, kind: str | None = None) -> Sequence[AlertRule]:
        query = (
            select(AlertRule).where(AlertRule.environment_id == environment_id).order_by(AlertRule.created_at)
        )
        if kind is not None:
            query = query.where(AlertRule.kind == kind)
        return self.session.scalars(query).all()

    def add_rule(self, rule: AlertRule) -> AlertRule:
        self.session.add(rule)
        self.session.flush()
        return rule

    def rule(self, rule_id: str) -> AlertRule | None:
        return self.session.get(AlertRule, rule_id)

    def remove_rule(self, rule: AlertRule) -> None:
        self.session.delete(rule)
        self.session.flush()
