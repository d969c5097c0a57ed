"""The permission matrix (``permission_table.py``) against the real API: every role, relation and operation.

One server (the ASGI app in process, SQLite) for the module; every cell gets its own resource,
set up through the services (the arrangement) and then exercised over HTTP (the act), so a
delete or a share in one cell cannot change another. Roles are environment roles of four
actors; "via group" grants go to a group all four are in.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import ADMIN_PASSWORD, Api
from tests.api.permission_table import KINDS, RELATIONS, ROLES, SUCCESS, expected, operations, render_markdown
from tests.services._invoke_kit import echo_app, echo_package, values_for
from tether import services
from tether.api import create_app, serve_in_thread
from tether.config import load_settings
from tether.definition import package_from_files
from tether.secrets import generate_key_pair
from tether.store import Connection, Connector, Database, Flow, Gateway, utcnow

ENV = "/api/v1/environments/default"
PUBLIC_KEY = generate_key_pair()[1]
DOC = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"
FLOW = {
    "triggers": {"manual": {"type": "Request", "kind": "Http"}},
    "actions": {"Echo": {"type": "Compose", "inputs": "@triggerBody()"}},
}


class World:
    """The module's server, its users, and helpers to arrange one cell."""

    def __init__(self, api: Api, echo_host: str) -> None:
        self.api = api
        self.echo_host = echo_host
        self.root = services.authenticate_password(api.db, "admin", ADMIN_PASSWORD)
        self.headers: dict[str, dict[str, str]] = {}
        self.ids: dict[str, str] = {}
        for name, role in (("builder", "maker"), ("bystander", "user"), *((f"act-{r}", r) for r in ROLES)):
            user = services.create_user(api.db, self.root, name, password="password-" + name)
            self.ids[name] = user.id
            if role != "none":
                services.add_member(api.db, self.root, "default", name, role)
            self.headers[name] = api.as_user(api.token_for(name, "password-" + name))
        services.create_group(api.db, self.root, "crew")
        for role in ROLES:
            services.add_group_member(api.db, self.root, "crew", f"act-{role}")
        services.set_environment_settings(api.db, self.root, "default", network_allow=["127.0.0.1"])
        self.builder = services.authenticate_password(api.db, "builder", "password-builder")

    def call(self, actor: str, method: str, path: str, **kwargs: Any) -> Any:
        return self.api.client.request(method, f"{ENV}{path}", headers=self.headers[actor], **kwargs)

    def relate(self, kind: str, resource: str, actor: str, relation: str, model: type) -> None:
        """Give ``actor`` the ``relation`` to the resource (made by the builder)."""
        if relation == "owner":
            with self.api.db.session() as session:
                row = session.get(model, resource)
                if model is Connection:
                    row.owner_id = self.ids[actor]
                else:
                    row.created_by = self.ids[actor]
            return
        permission = {"connector": "use", "connection": "use", "flow": "run", "gateway": "use"}[kind]
        grantee, given = {
            "edit": (f"user:{actor}", "edit"),
            "use": (f"user:{actor}", permission),
            "group": ("group:crew", "use" if kind == "connection" else "edit"),
            "everyone": ("everyone", permission),
        }.get(relation, (None, None))
        if grantee is not None:
            services.share_resource(self.api.db, self.builder, "default", kind, resource, grantee, given)

    def connector(self, name: str) -> str:
        package = echo_package(self.echo_host, "header")
        return services.create_connector(self.api.db, self.builder, "default", package, name=name).id

    def gateway_connector(self) -> str:
        """A connector whose connections name a gateway (made once, usable by everyone)."""
        if "gateway-connector" not in self.ids:
            definition = {
                "swagger": "2.0",
                "info": {"title": "via", "version": "1"},
                "host": "10.9.9.9",
                "paths": {"/x": {"get": {"operationId": "X", "responses": {"200": {"description": "ok"}}}}},
            }
            properties = {"properties": {"connectionParameters": {"gateway": {"type": "gatewaySetting"}}}}
            package = package_from_files(
                {"apiDefinition.swagger.json": json.dumps(definition).encode(),
                 "apiProperties.json": json.dumps(properties).encode()}
            )  # fmt: skip
            made = services.create_connector(
                self.api.db, self.builder, "default", package, name="via-gateway"
            )
            services.share_resource(
                self.api.db, self.builder, "default", "connector", made.id, "everyone", "use"
            )
            self.ids["gateway-connector"] = made.id
        return self.ids["gateway-connector"]

    def connection(self, connector_id: str) -> str:
        body = {"connector": connector_id, "parameters": values_for("header")}
        answer = self.call("builder", "POST", "/connections", json=body)
        assert answer.status_code == 201, answer.text
        return str(answer.json()["id"])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, _sqlite_template: Path) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("matrix")
    shutil.copyfile(_sqlite_template, folder / "tether.db")
    url = f"sqlite:///{folder / 'tether.db'}"
    settings = load_settings(home=folder / "home", database_url=url, admin_password=ADMIN_PASSWORD)
    database = Database(url)
    services.bootstrap(database, settings)
    with (
        serve_in_thread(echo_app()) as echo_url,  # type: ignore[arg-type]
        TestClient(create_app(settings, database)) as client,
    ):
        yield World(Api(client=client, db=database, settings=settings), echo_url.removeprefix("http://"))
    database.close()


def _outcome(answer: Any, kind: str, operation: str, present: bool | None = None) -> str:
    """What the API answered, in the table's words."""
    if answer.status_code == SUCCESS[(kind, operation)]:
        if present is False:
            return "hidden"
        return "ok"
    return str(answer.status_code)


def _connector_cell(world: World, role: str, relation: str) -> dict[str, str]:
    actor = f"act-{role}"
    cid = world.connector(f"c-{role}-{relation}")
    world.relate("connector", cid, actor, relation, Connector)
    listed = world.call(actor, "GET", "/connectors")
    present = listed.status_code == 200 and cid in [c["id"] for c in listed.json()["items"]]
    package = echo_package(world.echo_host, "header")
    upload = {"package": ("p.zip", package.to_zip(), "application/zip")}
    body = {"connector": cid, "parameters": values_for("header")}
    share = {"grantee": "user:bystander", "permission": "use"}
    return {
        "list": _outcome(listed, "connector", "list", present),
        "read": _outcome(world.call(actor, "GET", f"/connectors/{cid}"), "connector", "read"),
        "download": _outcome(
            world.call(actor, "GET", f"/connectors/{cid}/download"), "connector", "download"
        ),
        "connect": _outcome(world.call(actor, "POST", "/connections", json=body), "connector", "connect"),
        "update": _outcome(
            world.call(actor, "PUT", f"/connectors/{cid}", files=upload), "connector", "update"
        ),
        "share": _outcome(
            world.call(actor, "PUT", f"/connectors/{cid}/access", json=share), "connector", "share"
        ),
        "delete": _outcome(
            world.call(actor, "DELETE", f"/connectors/{cid}", params={"force": "true"}), "connector", "delete"
        ),
    }


def _connection_cell(world: World, role: str, relation: str) -> dict[str, str]:
    actor = f"act-{role}"
    cid = world.connector(f"n-{role}-{relation}")
    services.share_resource(world.api.db, world.builder, "default", "connector", cid, "everyone", "use")
    connection = world.connection(cid)
    world.relate("connection", connection, actor, relation, Connection)
    listed = world.call(actor, "GET", "/connections")
    present = listed.status_code == 200 and connection in [c["id"] for c in listed.json()["items"]]
    flow = {"name": f"b-{role}-{relation}", "definition": FLOW, "connections": {"echo": connection}}
    share = {"grantee": "user:bystander", "permission": "use"}
    return {
        "list": _outcome(listed, "connection", "list", present),
        "read": _outcome(world.call(actor, "GET", f"/connections/{connection}"), "connection", "read"),
        "invoke": _outcome(
            world.call(actor, "POST", f"/connections/{connection}/invoke/GetLatest"), "connection", "invoke"
        ),
        "bind": _outcome(world.call(actor, "POST", "/flows", json=flow), "connection", "bind"),
        "update": _outcome(
            world.call(actor, "PATCH", f"/connections/{connection}", json={"display_name": "renamed"}),
            "connection",
            "update",
        ),
        "share": _outcome(
            world.call(actor, "PUT", f"/connections/{connection}/access", json=share), "connection", "share"
        ),
        "delete": _outcome(world.call(actor, "DELETE", f"/connections/{connection}"), "connection", "delete"),
    }


def _flow_cell(world: World, role: str, relation: str) -> dict[str, str]:
    actor = f"act-{role}"
    name = f"f-{role}-{relation}"
    flow = services.create_flow(world.api.db, world.builder, "default", FLOW, name=name)
    world.relate("flow", flow.id, actor, relation, Flow)
    with world.api.db.session() as session:
        # A run no executor will take (claimed far ahead), so cancelling it is deterministic.
        row = session.get(Flow, flow.id)
        run = services._flow_runs.create_run(session, row, {"name": "manual"}, started_by="builder")
        run.claimed_by, run.claimed_until = "matrix-test", utcnow() + timedelta(days=1)
        run_id = run.id
    listed = world.call(actor, "GET", "/flows")
    present = listed.status_code == 200 and name in [f["name"] for f in listed.json()["items"]]
    runs = f"/flows/{name}/runs"
    share = {"grantee": "user:bystander", "permission": "run"}
    return {
        "list": _outcome(listed, "flow", "list", present),
        "read": _outcome(world.call(actor, "GET", f"/flows/{name}"), "flow", "read"),
        "run": _outcome(world.call(actor, "POST", runs, json={"body": {"a": 1}}), "flow", "run"),
        "list runs": _outcome(world.call(actor, "GET", runs), "flow", "list runs"),
        "read run": _outcome(world.call(actor, "GET", f"{runs}/{run_id}"), "flow", "read run"),
        "resubmit": _outcome(world.call(actor, "POST", f"{runs}/{run_id}/resubmit"), "flow", "resubmit"),
        "cancel run": _outcome(world.call(actor, "POST", f"{runs}/{run_id}/cancel"), "flow", "cancel run"),
        "update": _outcome(
            world.call(actor, "PATCH", f"/flows/{name}", json={"display_name": "renamed"}), "flow", "update"
        ),
        "share": _outcome(world.call(actor, "PUT", f"/flows/{name}/access", json=share), "flow", "share"),
        "delete": _outcome(world.call(actor, "DELETE", f"/flows/{name}"), "flow", "delete"),
    }


def _gateway_cell(world: World, role: str, relation: str) -> dict[str, str]:
    actor = f"act-{role}"
    name = f"g-{role}-{relation}"
    made = services.create_gateway(world.api.db, world.builder, "default", name)
    with world.api.db.session() as session:  # as if its first agent had registered
        session.get(Gateway, made.id).public_key = PUBLIC_KEY  # type: ignore[union-attr]
    world.relate("gateway", made.id, actor, relation, Gateway)
    listed = world.call(actor, "GET", "/gateways")
    present = listed.status_code == 200 and name in [g["name"] for g in listed.json()["items"]]
    body = {"connector": world.gateway_connector(), "parameters": {"gateway": name}}
    share = {"grantee": "user:bystander", "permission": "use"}
    return {
        "list": _outcome(listed, "gateway", "list", present),
        "read": _outcome(world.call(actor, "GET", f"/gateways/{name}"), "gateway", "read"),
        "connect through": _outcome(
            world.call(actor, "POST", "/connections", json=body), "gateway", "connect through"
        ),
        "issue token": _outcome(
            world.call(actor, "POST", f"/gateways/{name}/tokens"), "gateway", "issue token"
        ),
        "list members": _outcome(
            world.call(actor, "GET", f"/gateways/{name}/members"), "gateway", "list members"
        ),
        "share": _outcome(
            world.call(actor, "PUT", f"/gateways/{name}/access", json=share), "gateway", "share"
        ),
    }


CELLS = {
    "connector": _connector_cell,
    "connection": _connection_cell,
    "flow": _flow_cell,
    "gateway": _gateway_cell,
}


# Every cell of the table; a connection has no Can edit relation, so it has no such cells.
MATRIX = [
    (kind, role, relation)
    for kind in KINDS
    for role in ROLES
    for relation in RELATIONS
    if not (kind == "connection" and relation == "edit")
]


@pytest.mark.parametrize(("kind", "role", "relation"), MATRIX)
def test_api_answers_as_the_table_says(world: World, kind: str, role: str, relation: str) -> None:
    answered = CELLS[kind](world, role, relation)
    wanted = {operation: expected(kind, operation, role, relation) for operation in operations(kind)}
    assert answered == wanted


def test_docs_page_is_the_table() -> None:
    """``docs/permissions.md`` is generated from the table: regenerate it when the table changes."""
    assert DOC.read_text() == render_markdown(), (
        "run: python -m tests.api.permission_table > docs/permissions.md"
    )
