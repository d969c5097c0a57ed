"""Certification requests, the catalog and data policies (DLP): models and their repositories.

A *certification request* names one immutable connector revision, the automatic checks' results
and the reviewers' comments. An approved request publishes a *catalog entry*: a copy of the
revision's files (so deleting or changing the source connector never changes what is certified),
visible in every environment. Installing an entry makes a connector in an environment and a
``catalog_installs`` row that says where it came from. A *data policy* classifies the connectors of
one environment into business / non-business / blocked, plus host rules for the Http action.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, Text, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from tether.store._models import Base, new_id, utcnow

__all__ = [
    "DLP_GROUPS",
    "REQUEST_STATES",
    "Catalog",
    "CatalogEntry",
    "CatalogFile",
    "CatalogInstall",
    "CertificationComment",
    "CertificationRequest",
    "Certifications",
    "DataPolicies",
    "DataPolicy",
    "DataPolicyRule",
]

# A request waits for review, then is approved (published) or rejected.
REQUEST_STATES = ("pending", "approved", "rejected")
# Power Platform's three data groups; a flow may not mix the first two, nor use the third.
DLP_GROUPS = ("business", "non-business", "blocked")


class CertificationRequest(Base):
    """One submission of one connector revision for certification."""

    __tablename__ = "certification_requests"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    connector_id: Mapped[str] = mapped_column(ForeignKey("connectors.id", ondelete="CASCADE"), index=True)
    environment_id: Mapped[str] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    readme: Mapped[str] = mapped_column(Text)
    # The automatic checks as run at submission: [{rule, severity, message, file, pointer}].
    checks: Mapped[list[Any]] = mapped_column(JSON, default=list)
    submitted_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[datetime | None]


class CertificationComment(Base):
    """A reviewer's (or the owner's) comment on a request, kept in order."""

    __tablename__ = "certification_comments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    request_id: Mapped[str] = mapped_column(
        ForeignKey("certification_requests.id", ondelete="CASCADE"), index=True
    )
    author: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    verdict: Mapped[str | None] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class CatalogEntry(Base):
    """A certified connector, visible in every environment; ``version`` counts approvals."""

    __tablename__ = "catalog_entries"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    publisher: Mapped[str] = mapped_column(String(200))
    readme: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Where it was certified from (plain columns: the catalog outlives its source).
    source_connector_id: Mapped[str] = mapped_column(String(36), unique=True)
    source_revision: Mapped[int] = mapped_column(Integer)
    request_id: Mapped[str] = mapped_column(String(36))
    published_at: Mapped[datetime] = mapped_column(default=utcnow)


class CatalogFile(Base):
    """One file of a catalog entry's certified package."""

    __tablename__ = "catalog_files"

    entry_id: Mapped[str] = mapped_column(
        ForeignKey("catalog_entries.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class CatalogInstall(Base):
    """A connector that was installed from the catalog (which entry, which version)."""

    __tablename__ = "catalog_installs"

    connector_id: Mapped[str] = mapped_column(
        ForeignKey("connectors.id", ondelete="CASCADE"), primary_key=True
    )
    entry_id: Mapped[str] = mapped_column(ForeignKey("catalog_entries.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    installed_at: Mapped[datetime] = mapped_column(default=utcnow)


class DataPolicy(Base):
    """An environment's data policy: the group of unclassified connectors and the Http host rules."""

    __tablename__ = "data_policies"

    environment_id: Mapped[str] = mapped_column(
        ForeignKey("environments.id", ondelete="CASCADE"), primary_key=True
    )
    default_group: Mapped[str] = mapped_column(String(16), default="non-business")
    http_allowed_hosts: Mapped[list[Any]] = mapped_column(JSON, default=list)
    http_denied_hosts: Mapped[list[Any]] = mapped_column(JSON, default=list)
    updated_by: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class DataPolicyRule(Base):
    """One connector's group in one environment; ``connector_key`` is stable (see services/_dlp)."""

    __tablename__ = "data_policy_rules"

    environment_id: Mapped[str] = mapped_column(
        ForeignKey("environments.id", ondelete="CASCADE"), primary_key=True
    )
    connector_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    group: Mapped[str] = mapped_column(String(16))


class Certifications:
    """Certification requests and their comments."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, request: CertificationRequest) -> CertificationRequest:
        self.session.add(request)
        self.session.flush()
        return request

    def get(self, request_id: str) -> CertificationRequest | None:
        return self.session.get(CertificationRequest, request_id)

    def for_connector(self, connector_id: str) -> Sequence[CertificationRequest]:
        """The connector's requests, newest first."""
        return self.session.scalars(
            select(CertificationRequest)
            .where(CertificationRequest.connector_id == connector_id)
            .order_by(CertificationRequest.submitted_at.desc(), CertificationRequest.revision.desc())
        ).all()

    def in_state(self, state: str | None) -> Sequence[CertificationRequest]:
        """Requests in ``state`` (every request when None), oldest first: the review queue."""
        query = select(CertificationRequest).order_by(CertificationRequest.submitted_at)
        if state is not None:
            query = query.where(CertificationRequest.state == state)
        return self.session.scalars(query).all()

    def comment(self, request_id: str, author: str, body: str, verdict: str | None) -> None:
        self.session.add(
            CertificationComment(request_id=request_id, author=author, body=body, verdict=verdict)
        )
        self.session.flush()

    def comments(self, request_id: str) -> Sequence[CertificationComment]:
        return self.session.scalars(
            select(CertificationComment)
            .where(CertificationComment.request_id == request_id)
            .order_by(CertificationComment.at, CertificationComment.id)
        ).all()


class Catalog:
    """Catalog entries, their files and the connectors installed from them."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def list(self) -> Sequence[CatalogEntry]:
        return self.session.scalars(select(CatalogEntry).order_by(CatalogEntry.name)).all()

    def find(self, name_or_id: str) -> CatalogEntry | None:
        return self.session.scalar(
            select(CatalogEntry).where((CatalogEntry.name == name_or_id) | (CatalogEntry.id == name_or_id))
        )

    def by_source(self, connector_id: str) -> CatalogEntry | None:
        return self.session.scalar(
            select(CatalogEntry).where(CatalogEntry.source_connector_id == connector_id)
        )

    def add(self, entry: CatalogEntry) -> CatalogEntry:
        self.session.add(entry)
        self.session.flush()
        return entry

    def set_files(self, entry: CatalogEntry, files: Mapping[str, bytes]) -> None:
        """Replace the entry's files (an approval of a new revision)."""
        self.session.execute(delete(CatalogFile).where(CatalogFile.entry_id == entry.id))
        for name, content in files.items():
            self.session.add(CatalogFile(entry_id=entry.id, name=name, content=content))
        self.session.flush()

    def files(self, entry: CatalogEntry) -> dict[str, bytes]:
        rows = self.session.scalars(select(CatalogFile).where(CatalogFile.entry_id == entry.id)).all()
        return {row.name: row.content for row in rows}

    def record_install(self, connector_id: str, entry: CatalogEntry) -> None:
        self.session.add(CatalogInstall(connector_id=connector_id, entry_id=entry.id, version=entry.version))
        self.session.flush()

    def installed_from(self, connector_ids: Sequence[str]) -> dict[str, str]:
        """Connector id → catalog entry name, for those of ``connector_ids`` installed from the catalog."""
        if not connector_ids:
            return {}
        rows = self.session.execute(
            select(CatalogInstall.connector_id, CatalogEntry.name)
            .join(CatalogEntry, CatalogEntry.id == CatalogInstall.entry_id)
            .where(CatalogInstall.connector_id.in_(list(connector_ids)))
        ).all()
        return {connector_id: name for connector_id, name in rows}


class DataPolicies:
    """Data policies and connector classifications, per environment."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, environment_id: str) -> DataPolicy | None:
        return self.session.get(DataPolicy, environment_id)

    def get_or_add(self, environment_id: str) -> DataPolicy:
        found = self.get(environment_id)
        if found is None:
            found = DataPolicy(
                environment_id=environment_id,
                default_group="non-business",
                http_allowed_hosts=[],
                http_denied_hosts=[],
            )
            self.session.add(found)
            self.session.flush()
        return found

    def rules(self, environment_id: str) -> dict[str, str]:
        rows = self.session.scalars(
            select(DataPolicyRule).where(DataPolicyRule.environment_id == environment_id)
        ).all()
        return {row.connector_key: row.group for row in rows}

    def classify(self, environment_id: str, connector_key: str, group: str | None) -> None:
        """Put a connector in ``group``; ``None`` returns it to the default group."""
        found = self.session.get(DataPolicyRule, (environment_id, connector_key))
        if group is None:
            if found is not None:
                self.session.delete(found)
        elif found is None:
            self.session.add(
                DataPolicyRule(environment_id=environment_id, connector_key=connector_key, group=group)
            )
        else:
            found.group = group
        self.session.flush()
