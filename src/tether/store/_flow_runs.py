"""The runs repository: runs and their action records, with the run journal's hot path.

The journal commits after every action of every run, so its statements are Core, built once, and
run on a plain connection (:meth:`FlowRuns.journal`) or, on SQLite, on the event loop's own
:class:`~tether.store._direct.DirectConnection`. JSON columns are taken as text there: the journal
encodes each value once, and nothing encodes it again.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import JSON, Dialect, Table, Text, TypeDecorator, bindparam, cast, delete, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from tether.errors import Conflict
from tether.store._direct import DirectConnection
from tether.store._engine import Database, DatabaseUnavailable
from tether.store._flows import FlowRun, RunAction, RunBlob, RunSegment
from tether.store._models import UTCDateTime, new_id
from tether.store._run_segments import Entry, StoredRecord, merged, pack

__all__ = ["FlowRuns"]

T = TypeVar("T")


class FlowRuns:
    """Runs and their action records.

    The run journal's hot path (insert, claim, action rows, progress, finish) uses Core statements
    only, so it also works on a bare connection from :meth:`journal`, skipping the ORM session, and
    on the event loop's :class:`DirectConnection` (:meth:`open_direct`). It takes JSON columns as
    text: the journal encodes each value once, for the database, and nothing encodes it again.
    """

    def __init__(self, session: Session | Connection | DirectConnection) -> None:
        self.session: Any = session

    @property
    def _orm(self) -> Session:
        """The session, for the queries that need the ORM (never run on the journal's connections)."""
        assert isinstance(self.session, Session)
        return self.session

    @classmethod
    @contextmanager
    def journal(cls, database: Database) -> Iterator[FlowRuns]:
        """One short transaction on a plain connection, with the store's error translation."""
        try:
            with database.engine.begin() as connection:
                yield cls(connection)
        except IntegrityError as exc:
            raise Conflict("The change clashes with data saved at the same time; try again.") from exc
        except OperationalError as exc:
            raise DatabaseUnavailable("The database is unavailable or busy; try again shortly.") from exc

    @staticmethod
    def open_direct(database: Database) -> DirectConnection | None:
        """SQLite: a connection for the event loop's journal writes (see :class:`DirectConnection`);
        None on PostgreSQL, whose round trips belong in a thread. The caller closes it."""
        return DirectConnection(database) if database.dialect == "sqlite" else None

    @classmethod
    def attempt(cls, connection: DirectConnection, work: Callable[[FlowRuns], T]) -> tuple[bool, T | None]:
        """``work`` in one transaction on ``connection`` if the write lock is free right now:
        ``(True, result)``, or ``(False, None)`` with nothing done (then use :meth:`journal`)."""
        return connection.attempt(lambda direct: work(cls(direct)))

    @classmethod
    def attempt_each(
        cls, connection: DirectConnection, works: Sequence[Callable[[FlowRuns], Any]]
    ) -> builtins.list[tuple[bool, Any]] | None:
        """A group commit: every one of ``works`` in one transaction on ``connection`` if the write
        lock is free right now, each in a savepoint (``(True, result)`` or ``(False, exception)``);
        None with nothing done when the lock is taken."""

        def bound(work: Callable[[FlowRuns], Any]) -> Callable[[DirectConnection], Any]:
            return lambda direct: work(cls(direct))

        return connection.attempt_each([bound(work) for work in works])

    @staticmethod
    def translated(exc: Exception) -> Exception:
        """The store's error for a failed journal statement, as :meth:`journal` raises it."""
        if isinstance(exc, IntegrityError):
            error: Exception = Conflict("The change clashes with data saved at the same time; try again.")
        elif isinstance(exc, OperationalError):
            error = DatabaseUnavailable("The database is unavailable or busy; try again shortly.")
        else:
            return exc
        error.__cause__ = exc
        return error

    def add(self, run: FlowRun) -> FlowRun:
        self.session.add(run)
        self.session.flush()
        return run

    def get(self, run_id: str, *, for_update: bool = False) -> FlowRun | None:
        query = select(FlowRun).where(FlowRun.id == run_id)
        if for_update:
            query = query.with_for_update(of=FlowRun)
        return self._orm.scalar(query)

    def list(self, flow_id: str, *, status: str | None = None, limit: int = 50) -> Sequence[FlowRun]:
        query = select(FlowRun).where(FlowRun.flow_id == flow_id)
        if status is not None:
            query = query.where(FlowRun.status == status)
        return self._orm.scalars(query.order_by(FlowRun.created_at.desc(), FlowRun.id).limit(limit)).all()

    def actions(self, run_id: str) -> builtins.list[StoredRecord]:
        """A run's action records in order, from its segments and (runs stored before 0013) its
        ``run_actions`` rows; works on a plain connection too."""
        legacy = [StoredRecord(*row) for row in self.session.execute(_LEGACY_RECORDS, {"b_run": run_id})]
        segments = [row[0] for row in self.session.execute(_SEGMENTS, {"b_run": run_id})]

        def blobs(digests: set[str]) -> dict[str, bytes]:  # read only when a record is out of line
            rows = self.session.execute(_BLOBS, {"b_run": run_id})
            return {digest: data for digest, data in rows if digest in digests}

        return merged(legacy, segments, blobs)

    def action_records(self, run_id: str) -> builtins.list[Any]:
        """The saved records of a run's action instances, in order (works on a plain connection)."""
        return [stored.record for stored in self.actions(run_id)]

    def append_records(self, run_id: str, entries: Sequence[Entry]) -> None:
        """One journal commit's action records (path, seq, status, idempotency key, record JSON
        text) as one segment
        (a record stored earlier for the same path is replaced): the journal's hot path."""
        body, blobs = pack(entries)
        self.session.execute(_INSERT_SEGMENT, {"run_id": run_id, "body": body})
        for digest, data in blobs.items():
            known = self.session.execute(_BLOB_KNOWN, {"b_run": run_id, "b_digest": digest}).fetchone()
            if known is None:
                self.session.execute(_INSERT_BLOB, {"run_id": run_id, "digest": digest, "data": data})

    def insert_run(self, values: dict[str, Any]) -> None:
        """A new run row from the journal's hot path: ``trigger``, ``definition``, ``parameters`` and
        ``state`` as JSON text; ``claimed_by``/``claimed_until`` set when its process runs it now."""
        self.session.execute(_INSERT_RUN, values)

    def insert_ended_run(self, values: dict[str, Any], *, outputs: str, ended_at: datetime) -> None:
        """A run that ended in its first journal commit: its row as :meth:`insert_run` takes it, with
        ``status``, ``error`` and ``response`` (JSON text) as it ended, written once instead of
        inserted as Running and then updated (one statement, each index touched once)."""
        ended = {
            **values,
            "outputs": outputs,
            "ended_at": ended_at,
            "claimed_by": None,
            "claimed_until": None,
        }
        self.session.execute(_INSERT_ENDED_RUN, ended)

    def insert_action(
        self,
        run_id: str,
        path: str,
        record: str,
        status: str,
        seq: int,
        idempotency_key: str | None,
    ) -> None:
        """The first row of an action instance (one INSERT, no lookup: the journal knows it is new);
        ``record`` is JSON text."""
        values = {
            "id": new_id(),
            "run_id": run_id,
            "path": path,
            "record": record,
            "status": status,
            "seq": seq,
            "idempotency_key": idempotency_key,
        }
        self.session.execute(_INSERT_ACTION, values)

    def save_progress(
        self,
        run_id: str,
        state: str,
        claimed_until: datetime,
        response: str | None = None,
    ) -> None:
        """A run's variables/decisions (and Response answer), JSON text, after an action: the
        journal's hot path; it also extends the claim, so a run that commits needs no heartbeat."""
        values = {"b_id": run_id, "state": state, "claimed_until": claimed_until}
        if response is None:
            self.session.execute(_SAVE_PROGRESS, values)
        else:
            self.session.execute(_SAVE_PROGRESS_AND_RESPONSE, {**values, "response": response})

    def claim(self, run_id: str, instance: str, now: datetime, until: datetime) -> dict[str, Any] | None:
        """Take a waiting/running run unless another live process holds it; its columns, or None."""
        taken = self.session.execute(
            _CLAIM,
            {
                "b_id": run_id,
                "b_instance": instance,
                "b_now": now,
                "claimed_by": instance,
                "claimed_until": until,
            },
        )
        if not taken.rowcount:
            return None
        row = self.session.execute(_CLAIMED, {"b_id": run_id}).mappings().first()
        if row is None:
            return None
        if row["started_at"] is None:
            self.session.execute(_STARTED, {"b_id": run_id, "started_at": now})
        return dict(row)

    def renew_claim(self, run_id: str, instance: str, until: datetime) -> None:
        self.session.execute(
            update(FlowRun)
            .where(FlowRun.id == run_id, FlowRun.claimed_by == instance)
            .values(claimed_until=until)
        )

    def finish(
        self,
        run_id: str,
        status: str,
        error: str,
        outputs: str,
        ended_at: datetime,
        *,
        state: str | None = None,
        response: str | None = None,
    ) -> None:
        """End a run and release its claim; JSON values as text (``state``/``response`` when changed)."""
        values = {"b_id": run_id, "status": status, "error": error, "outputs": outputs, "ended_at": ended_at}
        if state is not None:
            values["state"] = state
        if response is not None:
            values["response"] = response
        self.session.execute(_FINISH[state is not None, response is not None], values)

    def set_state(self, run_id: str, **values: Any) -> None:
        self.session.execute(update(FlowRun).where(FlowRun.id == run_id).values(**values))

    def unfinished(self, *, stale_before: datetime, limit: int = 100) -> Sequence[FlowRun]:
        """Runs waiting or running whose claim expired (their process died): to resume."""
        query = (
            select(FlowRun)
            .where(FlowRun.status.in_(("Waiting", "Running")))
            .where((FlowRun.claimed_until.is_(None)) | (FlowRun.claimed_until < stale_before))
            .order_by(FlowRun.created_at)
            .limit(limit)
        )
        return self._orm.scalars(query).all()

    def purge(self, ended_before: datetime) -> int:
        """Delete finished runs that ended before ``ended_before``; returns how many."""
        ids = select(FlowRun.id).where(FlowRun.ended_at.is_not(None), FlowRun.ended_at < ended_before)
        for model in (RunAction, RunSegment, RunBlob):  # whatever the foreign keys' cascades do
            self.session.execute(delete(model).where(model.run_id.in_(ids)))
        result = self.session.execute(
            delete(FlowRun).where(FlowRun.ended_at.is_not(None), FlowRun.ended_at < ended_before)
        )
        return int(result.rowcount or 0)


class _JsonText(TypeDecorator[str]):
    """A JSON column's value given already encoded: stored as is (``::JSON`` on PostgreSQL)."""

    impl = JSON
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> None:
        return None


def _json(name: str) -> Any:
    return bindparam(name, type_=_JsonText())


# The journal commits after every action, so its statements are built once (Core, bound
# parameters): SQLAlchemy then reuses the compiled SQL instead of rebuilding it per call, and
# DirectConnection compiles each once for SQLite.
def _table(model: type[RunAction] | type[FlowRun] | type[RunSegment] | type[RunBlob]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)  # declarative models map to a Table
    return table


_actions_table, _runs_table = _table(RunAction), _table(FlowRun)
_segments_table, _blobs_table = _table(RunSegment), _table(RunBlob)
_LEGACY_RECORDS = (
    select(
        _actions_table.c.path,
        _actions_table.c.seq,
        _actions_table.c.record,
        _actions_table.c.status,
        _actions_table.c.idempotency_key,
    )
    .where(_actions_table.c.run_id == bindparam("b_run"))
    .order_by(_actions_table.c.seq)
)
_SEGMENTS = (
    select(_segments_table.c.body)
    .where(_segments_table.c.run_id == bindparam("b_run"))
    .order_by(_segments_table.c.id)
)
_BLOBS = select(_blobs_table.c.digest, _blobs_table.c.data).where(_blobs_table.c.run_id == bindparam("b_run"))
_BLOB_KNOWN = select(_blobs_table.c.digest).where(
    _blobs_table.c.run_id == bindparam("b_run"), _blobs_table.c.digest == bindparam("b_digest")
)
_INSERT_SEGMENT = _segments_table.insert().values(run_id=bindparam("run_id"), body=bindparam("body"))
_INSERT_BLOB = _blobs_table.insert().values(
    run_id=bindparam("run_id"), digest=bindparam("digest"), data=bindparam("data")
)
_INSERT_RUN = _runs_table.insert().values(
    {
        **{
            name: bindparam(name)
            for name in (
                "id", "flow_id", "environment_id", "status", "trigger_name", "cancel_requested",
                "resubmitted_from", "started_by", "claimed_by", "claimed_until", "created_at", "started_at",
            )
        },
        **{name: _json(name) for name in ("trigger", "definition", "parameters", "state")},
    }
)  # fmt: skip
_INSERT_ENDED_RUN = _INSERT_RUN.values(
    {
        "ended_at": bindparam("ended_at"),
        **{name: _json(name) for name in ("error", "outputs", "response")},
    }
)
_INSERT_ACTION = _actions_table.insert().values(
    id=bindparam("id"),
    run_id=bindparam("run_id"),
    path=bindparam("path"),
    record=_json("record"),
    status=bindparam("status"),
    seq=bindparam("seq"),
    idempotency_key=bindparam("idempotency_key"),
)
_SAVE_PROGRESS = (
    _runs_table.update()
    .where(_runs_table.c.id == bindparam("b_id"))
    .values(state=_json("state"), claimed_until=bindparam("claimed_until"))
)
_SAVE_PROGRESS_AND_RESPONSE = _SAVE_PROGRESS.values(response=_json("response"))
_CLAIM = (
    _runs_table.update()
    .where(_runs_table.c.id == bindparam("b_id"), _runs_table.c.status.in_(("Waiting", "Running")))
    .where(
        or_(
            _runs_table.c.claimed_by.is_(None),
            _runs_table.c.claimed_by == bindparam("b_instance"),
            _runs_table.c.claimed_until < bindparam("b_now", type_=UTCDateTime()),
        )
    )
    .values(claimed_by=bindparam("claimed_by"), claimed_until=bindparam("claimed_until"), status="Running")
)
# The definition comes back as its text: the caller keeps compiled definitions keyed by that text.
_CLAIMED = select(
    _runs_table.c.flow_id,
    cast(_runs_table.c.definition, Text).label("definition"),
    _runs_table.c.trigger,
    _runs_table.c.parameters,
    _runs_table.c.state,
    _runs_table.c.response,
    _runs_table.c.started_at,
).where(_runs_table.c.id == bindparam("b_id"))
_STARTED = (
    _runs_table.update()
    .where(_runs_table.c.id == bindparam("b_id"))
    .values(started_at=bindparam("started_at"))
)
_FINISHED = (
    _runs_table.update()
    .where(_runs_table.c.id == bindparam("b_id"))
    .values(
        status=bindparam("status"),
        error=_json("error"),
        outputs=_json("outputs"),
        ended_at=bindparam("ended_at"),
        claimed_by=None,
        claimed_until=None,
    )
)
# By (with state, with response).
_FINISH = {
    (False, False): _FINISHED,
    (True, False): _FINISHED.values(state=_json("state")),
    (False, True): _FINISHED.values(response=_json("response")),
    (True, True): _FINISHED.values(state=_json("state"), response=_json("response")),
}
