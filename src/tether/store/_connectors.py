"""Repository for connectors and their immutable revisions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tether.store._models import Connector, ConnectorRevision, ConnectorRevisionFile, utcnow

__all__ = ["Connectors"]


class Connectors:
    """Connectors of one database; every lookup is scoped to an environment id.

    Scoping every query by environment means a connector id from another environment is simply
    not found, so one environment can never reach into another by guessing ids.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, environment_id: str, name: str, *, display_name: str, created_by: str | None) -> Connector:
        connector = Connector(
            environment_id=environment_id,
            name=name,
            display_name=display_name,
            created_by=created_by,
            current_revision=0,
        )
        self.session.add(connector)
        self.session.flush()
        return connector

    def find(self, environment_id: str, id_or_name: str, *, for_update: bool = False) -> Connector | None:
        """The connector with this id or name, optionally row-locked for a read-modify-write.

        ``for_update`` takes ``SELECT ... FOR UPDATE`` on PostgreSQL so two concurrent updates
        queue instead of racing for the same revision number (SQLite serializes writers anyway).
        """
        query = select(Connector).where(
            Connector.environment_id == environment_id,
            or_(Connector.id == id_or_name, Connector.name == id_or_name),
        )
        if for_update:
            query = query.with_for_update(of=Connector)
        return self.session.scalar(query)

    def name_taken(self, environment_id: str, name: str) -> bool:
        query = select(Connector.id).where(Connector.environment_id == environment_id, Connector.name == name)
        return self.session.scalar(query) is not None

    def list(self, environment_id: str) -> Sequence[Connector]:
        return self.session.scalars(
            select(Connector).where(Connector.environment_id == environment_id).order_by(Connector.name)
        ).all()

    def add_revision(
        self,
        connector: Connector,
        files: Mapping[str, bytes],
        *,
        created_by: str | None,
        note: str | None = None,
    ) -> ConnectorRevision:
        """Append revision ``current_revision + 1`` holding ``files`` and make it current."""
        now = utcnow()
        revision = ConnectorRevision(
            connector_id=connector.id,
            number=connector.current_revision + 1,
            created_by=created_by,
            created_at=now,
            note=note,
            files=[
                ConnectorRevisionFile(name=name, content=bytes(content)) for name, content in files.items()
            ],
        )
        self.session.add(revision)
        connector.current_revision = revision.number
        connector.updated_at = now
        self.session.flush()
        return revision

    def revision(self, connector_id: str, number: int) -> ConnectorRevision | None:
        return self.session.scalar(
            select(ConnectorRevision).where(
                ConnectorRevision.connector_id == connector_id, ConnectorRevision.number == number
            )
        )

    def revisions(self, connector_id: str) -> Sequence[ConnectorRevision]:
        return self.session.scalars(
            select(ConnectorRevision)
            .where(ConnectorRevision.connector_id == connector_id)
            .order_by(ConnectorRevision.number)
        ).all()

    def files(self, revision: ConnectorRevision) -> dict[str, bytes]:
        """The revision's files as a fresh ``{name: bytes}`` mapping."""
        return {file.name: bytes(file.content) for file in revision.files}

    def delete(self, connector: Connector) -> None:
        """Delete the connector with all its revisions (the database cascades)."""
        self.session.delete(connector)
        self.session.flush()
