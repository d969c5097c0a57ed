"""Wiring the services' flow code into both ends of the distributed mode.

Worker side, :func:`services_advance` gives a worker process its ``advance(run_id)``: the very
``hosting.advance_run`` the embedded executor calls, with the database journal. Server side,
:func:`distributed_flow_host` builds the ``FlowHost`` that ``tether serve`` uses when a
broker is configured: same scheduler, same recovery of stale runs, but runs go to the workers.

Every worker claims runs under one name, :data:`FLEET_INSTANCE`. The run's ``claimed_by`` column
then says "the worker fleet has it", and the PostgreSQL lease (:class:`RunLease`) is what keeps
two workers apart; so a worker killed mid-run is replaced as soon as its task is redelivered,
instead of after the claim's expiry.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from tether import hosting, services, telemetry
from tether.config import Settings
from tether.errors import ConfigurationError
from tether.executors._executor import CeleryExecutor
from tether.executors._responses import ResponsePublisher
from tether.executors._tasks import NOT_CLAIMED, RunAdvance
from tether.flows.engine import EngineServices
from tether.secrets import KeyRing
from tether.store import Database

__all__ = ["FLEET_INSTANCE", "distributed_flow_host", "engine_services", "services_advance"]

FLEET_INSTANCE = "tether-workers"


def engine_services(
    database: Database, settings: Settings
) -> tuple[EngineServices, services.ConnectorRunner]:
    """The engine's outside world in a worker, as in the embedded server: connector actions run
    through a connector runtime of the worker's own (closed with the worker)."""
    connectors = services.ConnectorRunner()
    caller = hosting.FlowConnectorCaller(
        database, runtime=connectors, keyring=KeyRing.from_settings(settings)
    )
    return EngineServices(connectors=caller), connectors


def services_advance(
    database: Database, settings: Settings
) -> tuple[RunAdvance, Callable[[], Awaitable[None]]]:
    """A worker process's ``advance(run_id, reply_to=...)`` and the coroutine that closes what it opened.

    A run somebody waits for (``reply_to`` set) publishes its answer once: the Response's, as
    soon as the journal committed it, or "no answer" when the run ended without one.
    """
    engine, connectors = engine_services(database, settings)
    publisher = ResponsePublisher(settings.broker_url)
    keyring = KeyRing.from_settings(settings)  # decrypts the environments' secure variables
    advance = _ServicesAdvance(database, engine, publisher, keyring)

    async def close() -> None:
        publisher.close()
        await engine.aclose()
        await connectors.aclose()

    return advance, close


class _ServicesAdvance:
    """:func:`services_advance`'s :class:`~tether.executors.RunAdvance`: the claim (blocking, on
    the caller's thread) and the advance (on the worker's loop) of ``hosting.advance_run``."""

    def __init__(
        self, database: Database, engine: EngineServices, publisher: ResponsePublisher, keyring: KeyRing
    ) -> None:
        self.database, self.engine, self.publisher, self.keyring = database, engine, publisher, keyring

    def claim(self, run_id: str) -> hosting.ClaimedRun | None:
        """Take the run for the fleet and read its journal; None when it is over or held elsewhere."""
        return hosting.claim_run(self.database, run_id, FLEET_INSTANCE, self.keyring)

    async def __call__(self, run_id: str, *, reply_to: str | None = None, claimed: Any = NOT_CLAIMED) -> None:
        publisher = self.publisher
        answered = False

        def on_response(answered_run: str, response: dict[str, Any]) -> None:
            nonlocal answered
            if reply_to is not None and not answered:
                answered = True
                publisher.publish(reply_to, answered_run, response)

        if claimed is NOT_CLAIMED or claimed is not None:  # None: claimed beforehand, nothing to do
            await hosting.advance_run(
                self.database,
                run_id,
                self.engine,
                instance=FLEET_INSTANCE,
                on_response=on_response,
                keyring=self.keyring,
                claimed=None if claimed is NOT_CLAIMED else claimed,
            )
        # The run ended (or was already over): a caller still waiting gets "no response" now rather
        # than at its timeout. Not on errors: then the run is resumed elsewhere and may still answer.
        if reply_to is not None and not answered:
            publisher.publish(reply_to, run_id, None)


def distributed_flow_host(
    database: Database, settings: Settings, *, keyring: KeyRing | None = None, **options: Any
) -> hosting.FlowHost:
    """The ``FlowHost`` of a ``tether serve`` replica in distributed mode (``TETHER_BROKER_URL`` set).

    Put it in ``app.state.flow_host`` before the app starts; the app's lifespan starts it.
    ``options`` are passed to ``FlowHost`` (``scheduler``, ``tick_seconds``...).
    """
    if database.dialect != "postgresql":
        raise ConfigurationError(
            "TETHER_BROKER_URL is set, so runs go to 'tether worker' processes, which share the server's "
            "database: set TETHER_DATABASE_URL to a PostgreSQL URL (or unset TETHER_BROKER_URL for the "
            "embedded mode)."
        )
    executor = CeleryExecutor(settings)
    keyring = keyring or KeyRing.from_settings(settings)
    runtime = hosting.FlowHost(database, keyring=keyring, executor=lambda _advance: executor, **options)
    # Answers of Response actions come back from the workers over Redis, for the runs waited for here.
    executor.on_response = runtime._respond
    executor.waiting = runtime._waiters.__contains__
    telemetry.set_queue_depth(executor.queue_depth)  # read at each /metrics scrape, when metrics are on
    return runtime
