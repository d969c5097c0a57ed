"""Helpers of the distributed tests: a flow of N Http calls, runs in the database, waiting for them."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tether import services
from tether.services import Principal
from tether.store import Database, FlowRuns, Users, migrate

FINAL = ("Succeeded", "Failed", "Cancelled")


def chain_of_http_calls(backend_url: str, count: int) -> dict[str, Any]:
    """A definition whose actions A1..A<count> each POST ``{"action": name}`` to the backend, in order."""
    actions: dict[str, Any] = {}
    for index in range(1, count + 1):
        name = f"A{index}"
        actions[name] = {
            "type": "Http",
            "inputs": {"method": "POST", "uri": f"{backend_url}/call", "body": {"action": name}},
            "runAfter": {f"A{index - 1}": ["Succeeded"]} if index > 1 else {},
        }
    return {
        "$schema": "https://schema.management.azure.com/providers/Microsoft.Logic/schemas/2016-06-01/"
        "workflowdefinition.json#",
        "contentVersion": "1.0.0.0",
        "triggers": {"manual": {"type": "Request", "kind": "Http", "inputs": {}}},
        "actions": actions,
    }


def prepare(database_url: str) -> tuple[Database, Principal]:
    """Migrate the test database and make a platform admin (through the store: no password hash)."""
    db = Database(database_url)
    migrate(db)
    with db.session() as session:
        user = Users(session).add("root", password_hash=None, display_name="Root", is_admin=True)
        principal = Principal(user_id=user.id, username=user.username, is_admin=True)
    services.create_environment(db, principal, "team", display_name="Team")
    # The flows call counting services on loopback, which the SSRF guard refuses unless allowed.
    services.set_environment_settings(db, principal, "team", network_allow=["127.0.0.1"])
    return db, principal


def start_runs(db: Database, principal: Principal, definition: dict[str, Any], count: int) -> list[str]:
    services.create_flow(db, principal, "team", definition, name="chain")
    return [services.start_run(db, principal, "team", "chain", body={"n": i}).id for i in range(count)]


def statuses(db: Database, run_ids: list[str]) -> dict[str, str]:
    with db.session() as session:
        runs = FlowRuns(session)
        return {run_id: getattr(runs.get(run_id), "status", "missing") for run_id in run_ids}


def wait_for_runs(
    db: Database,
    run_ids: list[str],
    *,
    timeout: float,
    during: Callable[[], None] | None = None,
    diagnostics: Callable[[], str] = str,
) -> float:
    """Poll until every run is final (calling ``during`` each pass); fail with diagnostics at the deadline."""
    start = time.monotonic()
    while True:
        current = statuses(db, run_ids)
        if all(status in FINAL for status in current.values()):
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            pending = {k: v for k, v in current.items() if v not in FINAL}
            message = f"{len(pending)} runs unfinished after {timeout:.0f}s: {pending}"
            raise AssertionError(f"{message}\n{diagnostics()}")
        if during is not None:
            during()
        time.sleep(0.05)
