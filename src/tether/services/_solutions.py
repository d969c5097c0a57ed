"""Solutions: connectors, flows and environment variables moved between environments as one zip.

Power Platform's unit of moving work. A solution zip holds ``solution.json`` (the manifest),
``connectors/<name>/<file>`` (each connector's current revision, as its download gives it: OAuth
client secrets as placeholders) and ``flows/<name>.json`` (definitions). A flow's connections
become **connection references** (reference name ⇒ the connector it needs), because connection
ids mean nothing in another environment; the importer binds each to one of their connections
there. Environment variables travel by name and secure flag; the value is per environment,
given at import (a non-secure one's exported value is the default).

Import is one transaction: every use case below runs inside the same database session (a
:class:`_OneTransaction` hands it to them), so a missing reference, a refused permission or an
invalid definition anywhere leaves the target environment exactly as it was. The checks that
need no writing (the zip, the manifest, the bindings) run first, so the error lists them all.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, Final, cast

from sqlalchemy.orm import Session

from tether.definition import MAX_PACKAGE_BYTES, package_from_files
from tether.errors import InputError, NotFound
from tether.secrets import KeyRing
from tether.services._access import Principal, standing
from tether.services._connections import get_connection, list_connections
from tether.services._connectors import create_connector, get_revision_files, update_connector
from tether.services._environment_variables import list_environment_variables, set_environment_variable
from tether.services._flow_templates import flow_template
from tether.services._flows import create_flow, get_flow, update_flow
from tether.store import Connectors, Database, Flows

__all__ = [
    "SOLUTION_FORMAT",
    "SolutionReport",
    "builtin_solution",
    "export_solution",
    "import_solution",
]

SOLUTION_FORMAT: Final = "tether.solution/1"
MANIFEST: Final = "solution.json"
MAX_SOLUTION_BYTES: Final = 4 * MAX_PACKAGE_BYTES
_NOTE: Final = "Imported from a solution"
# The solutions that ship with Tether: their flows come from the flow templates of the same name.
BUILTIN_SOLUTIONS: Final = {"redirect-uri-audit": ("redirect-uri-audit", "redirect-uri-audit-per-creator")}


@dataclass(frozen=True)
class SolutionReport:
    """What an import did (or, with ``changed`` false, would have needed)."""

    environment: str
    connectors: list[dict[str, str]] = field(default_factory=list)
    flows: list[dict[str, Any]] = field(default_factory=list)
    environment_variables: list[dict[str, str]] = field(default_factory=list)


# -- export --------------------------------------------------------------------------------------


def export_solution(
    db: Database,
    principal: Principal,
    environment: str,
    *,
    name: str = "solution",
    connectors: list[str] | None = None,
    flows: list[str] | None = None,
    variables: list[str] | None = None,
) -> bytes:
    """The zip of these connectors, flows and variables, read with the caller's rights."""
    manifest: dict[str, Any] = {
        "format": SOLUTION_FORMAT,
        "name": name,
        "connectors": [],
        "flows": [],
        "environment_variables": [],
    }
    files: dict[str, bytes] = {}
    for connector in connectors or []:
        package = get_revision_files(db, principal, environment, connector)
        with db.session() as session:
            row = Connectors(session).find(
                standing(session, principal, environment).environment.id, connector
            )
            if row is None:  # deleted since get_revision_files read it
                raise NotFound(f"Connector {connector!r} not found in environment {environment!r}.")
            entry = {"name": row.name, "display_name": row.display_name}
        manifest["connectors"].append(entry)
        for file_name, content in package.items():
            files[f"connectors/{entry['name']}/{file_name}"] = content
    for flow_name in flows or []:
        flow = get_flow(db, principal, environment, flow_name)
        references = {
            reference: {"connector": get_connection(db, principal, environment, connection).connector}
            for reference, connection in flow.connections.items()
        }
        manifest["flows"].append(
            {
                "name": flow.name,
                "display_name": flow.display_name,
                "kind": flow.kind,
                "connection_references": references,
                "parameters": flow.parameters,
            }
        )
        files[f"flows/{flow.name}.json"] = json.dumps(flow.definition, indent=2).encode()
    known = {v.name: v for v in list_environment_variables(db, principal, environment)}
    for variable in variables or []:
        found = known.get(variable)
        if found is None:
            raise NotFound(f"Environment variable {variable!r} not found in {environment!r}.")
        variable_entry: dict[str, Any] = {"name": found.name, "secure": found.secure}
        if not found.secure and found.value is not None:
            variable_entry["value"] = found.value
        manifest["environment_variables"].append(variable_entry)
    return _zip(manifest, files)


def builtin_solution(name: str) -> bytes:
    """The shipped solution ``name`` (its flows are the shipped templates of the same family)."""
    flows = BUILTIN_SOLUTIONS.get(name)
    if flows is None:
        raise NotFound(f"No shipped solution {name!r}: choose one of {', '.join(BUILTIN_SOLUTIONS)}.")
    manifest: dict[str, Any] = {
        "format": SOLUTION_FORMAT,
        "name": name,
        "connectors": [],
        "flows": [],
        "environment_variables": [],
    }
    files: dict[str, bytes] = {}
    for template_name in flows:
        template = flow_template(template_name)
        references = {ref: {"connector": connector} for ref, connector in template.connections.items()}
        manifest["flows"].append(
            {
                "name": template.name,
                "display_name": template.description[:200],
                "kind": "Stateful",
                "connection_references": references,
                "parameters": {},
            }
        )
        files[f"flows/{template.name}.json"] = json.dumps(template.definition, indent=2).encode()
    return _zip(manifest, files)


def _zip(manifest: dict[str, Any], files: Mapping[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, json.dumps(manifest, indent=2))
        for name, content in sorted(files.items()):
            archive.writestr(name, content)
    return buffer.getvalue()


# -- import --------------------------------------------------------------------------------------


class _OneTransaction:
    """A ``Database`` whose every ``session()`` is one already open session: the import's unit of work.

    The use cases open ``with db.session()`` themselves; handed this, they all write into the
    import's transaction, which commits once at the end or rolls back as a whole.
    """

    def __init__(self, db: Database, session: Session) -> None:
        self._db = db
        self._session = session

    @contextmanager
    def session(self) -> Iterator[Session]:
        yield self._session

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


def import_solution(
    db: Database,
    principal: Principal,
    environment: str,
    content: bytes,
    *,
    connections: Mapping[str, str] | None = None,
    variables: Mapping[str, str] | None = None,
    keyring: KeyRing | None = None,
) -> SolutionReport:
    """Create or update the solution's connectors, flows and variables in ``environment``, all or nothing.

    ``connections`` binds connection references (reference name ⇒ a connection id of the caller's
    in the target environment); ``variables`` gives the target's values by variable name.
    """
    manifest, files = _read(content)
    bindings = dict(connections or {})
    values = dict(variables or {})
    _check_bindings(db, principal, environment, manifest, bindings)
    _check_variables(manifest, values)
    report = SolutionReport(environment=environment)
    with db.session() as session:
        joined = cast(Database, _OneTransaction(db, session))
        env = standing(session, principal, environment).environment
        for entry in manifest["connectors"]:
            name = str(entry["name"])
            prefix = f"connectors/{name}/"
            package = package_from_files(
                {k.removeprefix(prefix): v for k, v in files.items() if k.startswith(prefix)}, source=name
            )
            if Connectors(session).find(env.id, name) is None:
                create_connector(
                    joined,
                    principal,
                    environment,
                    package,
                    name=name,
                    display_name=entry.get("display_name"),
                    note=_NOTE,
                    keyring=keyring,
                )
                report.connectors.append({"name": name, "action": "created"})
            else:
                update_connector(joined, principal, environment, name, package, note=_NOTE, keyring=keyring)
                report.connectors.append({"name": name, "action": "updated"})
        for entry in manifest["flows"]:
            name = str(entry["name"])
            definition = json.loads(files[f"flows/{name}.json"])
            bound = {ref: bindings[ref] for ref in entry.get("connection_references") or {}}
            kind = str(entry.get("kind") or "Stateful")
            if Flows(session).find(env.id, name) is None:
                create_flow(
                    joined,
                    principal,
                    environment,
                    definition,
                    name=name,
                    display_name=entry.get("display_name"),
                    parameters=entry.get("parameters"),
                    connections=bound,
                    keyring=keyring,
                    kind=kind,
                )
                action = "created"
            else:
                update_flow(
                    joined,
                    principal,
                    environment,
                    name,
                    definition=definition,
                    connections=bound,
                    keyring=keyring,
                    kind=kind,
                )
                action = "updated"
            report.flows.append({"name": name, "action": action, "connections": bound})
        for entry in manifest["environment_variables"]:
            name = str(entry["name"])
            value = values.get(name, entry.get("value"))
            set_environment_variable(
                joined,
                principal,
                environment,
                name,
                str(value),
                secure=bool(entry.get("secure")),
                keyring=keyring,
            )
            report.environment_variables.append({"name": name, "action": "set"})
    return report


def _read(content: bytes) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The manifest and files of a solution zip, with sizes counted as inflated, not as claimed."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile as exc:
        raise InputError(f"The solution is not a zip archive ({exc}).") from None
    files: dict[str, bytes] = {}
    budget = MAX_SOLUTION_BYTES
    with archive:
        for member in archive.infolist():
            path = PurePosixPath(member.filename)
            if member.is_dir():
                continue
            if path.is_absolute() or ".." in path.parts:
                raise InputError(f"The solution holds an unsafe path {member.filename!r}.")
            with archive.open(member) as stream:
                data = stream.read(budget + 1)
            budget -= len(data)
            if budget < 0:
                raise InputError(f"The solution inflates past {MAX_SOLUTION_BYTES // 2**20} MiB.")
            files[str(path)] = data
    try:
        manifest = json.loads(files.pop(MANIFEST))
    except (KeyError, ValueError):
        raise InputError(f"The zip is not a Tether solution: it needs a valid {MANIFEST}.") from None
    if not isinstance(manifest, dict) or manifest.get("format") != SOLUTION_FORMAT:
        raise InputError(f"{MANIFEST}: 'format' must be {SOLUTION_FORMAT!r}.")
    for key in ("connectors", "flows", "environment_variables"):
        if not isinstance(manifest.setdefault(key, []), list):
            raise InputError(f"{MANIFEST}: {key!r} must be a list.")
    for entry in manifest["flows"]:
        if not isinstance(entry, dict) or f"flows/{entry.get('name')}.json" not in files:
            raise InputError(f"{MANIFEST}: a flow entry names no flows/<name>.json in the zip: {entry!r}.")
    return manifest, files


def _check_bindings(
    db: Database, principal: Principal, environment: str, manifest: dict[str, Any], bindings: dict[str, str]
) -> None:
    """Every reference bound to one of the caller's connections to its connector; else one clear error."""
    mine = {c.id: c for c in list_connections(db, principal, environment) if c.owner == principal.username}
    problems: list[str] = []
    for flow in manifest["flows"]:
        for reference, needs in (flow.get("connection_references") or {}).items():
            connector = str((needs or {}).get("connector", ""))
            bound = bindings.get(reference)
            if bound is None:
                candidates = [c.id for c in mine.values() if c.connector == connector]
                hint = (
                    f"your connections to it: {', '.join(candidates)}"
                    if candidates
                    else f"create one: tether connection create --env {environment} --connector {connector}"
                )
                problems.append(
                    f"flow {flow['name']!r} needs connection reference {reference!r} "
                    f"(connector {connector!r}): pass --connection {reference}=<connection id>; {hint}"
                )
            elif bound not in mine:
                problems.append(
                    f"--connection {reference}={bound}: not one of your connections in {environment!r}"
                )
            elif mine[bound].connector != connector:
                problems.append(
                    f"--connection {reference}={bound} is a connection to {mine[bound].connector!r}; "
                    f"reference {reference!r} needs connector {connector!r}"
                )
    if problems:
        raise InputError(
            "The solution cannot be imported; nothing was changed:\n- " + "\n- ".join(problems),
            detail={"problems": problems},
        )


def _check_variables(manifest: dict[str, Any], values: dict[str, str]) -> None:
    missing = [
        str(entry["name"])
        for entry in manifest["environment_variables"]
        if entry.get("name") not in values and entry.get("value") is None
    ]
    if missing:
        raise InputError(
            "The solution needs a value for environment variable(s) "
            + ", ".join(missing)
            + " in this environment: pass --variable NAME=VALUE; nothing was changed.",
            detail={"missing": missing},
        )
