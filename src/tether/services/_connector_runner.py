"""What a serving process shares to run connector operations: the runtime, script workers, compiled revisions.

One :class:`ConnectorRunner` per process (the API makes it on first use; a flow worker makes its
own), because each part is costly to make and cheap to share: the runtime's connection pool, the
custom-code worker processes, and the compiled connectors.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import TracebackType
from typing import Any

from tether.runtime import DEFAULT_DEADLINE, DEFAULT_RATE_LIMIT, RateLimit, Runtime, Stage
from tether.runtime.compiled import DEFAULT_CACHE_SIZE, CompiledConnector, ConnectorCache
from tether.runtime.script import ScriptPool, build_script_stage
from tether.services._operation_catalog import OperationCatalog
from tether.services._read_cache import ReadCache
from tether.store import Database

__all__ = ["ConnectorRunner"]


class ConnectorRunner:
    """The process's :class:`~tether.runtime.Runtime`, :class:`ScriptPool` and :class:`ConnectorCache`.

    Parts given are borrowed (the caller closes them); parts made here are closed by ``aclose``.
    ``rate_limit`` is the per-connection budget of the runtime made here (None: no limit), and
    ``deadline`` the seconds each of its calls may take in all.

        async with ConnectorRunner() as connectors:
            answer = await invoke_operation(db, me, "default", cid, "Sentiment", args,
                                            runtime=connectors, keyring=ring)
    """

    def __init__(
        self,
        runtime: Runtime | None = None,
        *,
        scripts: ScriptPool | None = None,
        cache: ConnectorCache | None = None,
        cache_size: int = DEFAULT_CACHE_SIZE,
        rate_limit: RateLimit | None = DEFAULT_RATE_LIMIT,
        deadline: float = DEFAULT_DEADLINE,
    ) -> None:
        self.runtime = runtime or Runtime(rate_limit=rate_limit, deadline=deadline)
        self.cache = cache or ConnectorCache(cache_size)
        # Operations described for apps and agents (``list_operations``), per compiled revision.
        self.operations: OperationCatalog[Any] = OperationCatalog()
        self._owns_runtime = runtime is None
        self._owns_scripts = scripts is None
        self._scripts = scripts
        self._prepared: dict[Database, ReadCache[Any]] = {}

    def prepared_calls(self, db: Database, tables: Iterable[str]) -> ReadCache[Any]:
        """Connections made ready for calls through ``db`` (see ``prepare_call``), kept in this process."""
        cache = self._prepared.get(db)
        if cache is None:
            cache = self._prepared.setdefault(db, ReadCache(db, tables))
        return cache

    @property
    def scripts(self) -> ScriptPool:
        """The custom-code worker pool, made on first use (a connector without script.py never needs it)."""
        if self._scripts is None:
            self._scripts = ScriptPool()
        return self._scripts

    def stages(
        self,
        compiled: CompiledConnector,
        *,
        script_isolation: str | None = None,
        script_owner: str | None = None,
    ) -> list[Stage]:
        """The pipeline for ``compiled`` in Tether's order: policies, custom code, SOAP (then transport).

        ``script_isolation`` and ``script_owner`` are the call's (``PreparedCall``): custom-code
        workers are never shared between isolation keys, and slots are counted per owner.
        """
        stages: list[Stage] = [compiled.policies]
        if compiled.script is not None:
            stages.append(
                build_script_stage(
                    compiled.script,
                    compiled.script_operations,
                    pool=self.scripts,
                    isolation_key=script_isolation or f"connector:{compiled.connector_id}",
                    owner=script_owner,
                )
            )
        if compiled.soap is not None:
            stages.append(compiled.soap)
        return stages

    async def __aenter__(self) -> ConnectorRunner:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the pool and stop the workers made here."""
        if self._owns_scripts and self._scripts is not None:
            await self._scripts.aclose()
        if self._owns_runtime:
            await self.runtime.aclose()
