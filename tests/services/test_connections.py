"""Connections without a provider: forms, validation, ownership, secrets at rest, tests, key rotation."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.services._connections_kit import (
    PUBLIC_URL,
    api_key_package,
    basic_package,
    package,
    run,
    secure,
    text,
)
from tether.errors import NotFound, PermissionDenied, ValidationFailed
from tether.runtime import Runtime
from tether.secrets import KeyRing
from tether.services import (
    build_connection_form,
    connection_form,
    create_connection,
    create_connector,
    delete_connection,
    get_connection,
    list_connections,
    rotate_keys,
    set_environment_settings,
    update_connection,
)
from tether.services import (
    test_connection as check_connection,
)
from tether.store import Connections


@pytest.fixture
def ring() -> KeyRing:
    return KeyRing.from_keys(KeyRing.generate_key())


@pytest.fixture
def ada(make_user, team):
    return make_user("ada", environment=team, role="maker")


def _create(db, user, team, connector, values, ring, **options):
    return create_connection(
        db, user, team, connector, values, keyring=ring, public_url=PUBLIC_URL, **options
    )


def test_form_lists_every_parameter_type_with_its_ui(db, team, ada) -> None:
    parameters = {
        "host": {
            "type": "string",
            "uiDefinition": {
                "displayName": "Host",
                "tooltip": "Where",
                "constraints": {"required": "true", "tabIndex": 2},
            },
        },
        "api_key": secure("Key"),
        "retries": {"type": "int", "uiDefinition": {"displayName": "Retries"}},
        "verbose": {"type": "bool", "uiDefinition": {"displayName": "Verbose"}},
        "gateway": {"type": "gatewaySetting", "uiDefinition": {"displayName": "Gateway"}},
        "region": text("Region", allowedValues=[{"text": "Europe", "value": "eu"}, {"value": "us"}]),
        "hidden": {**text("Hidden", hidden="true"), "defaultValue": "x"},
    }
    create_connector(db, ada, team, package("Typed", parameters), name="typed")
    form = connection_form(db, ada, team, "typed", public_url=PUBLIC_URL)
    [only] = form.sets
    fields = {f.name: f for f in only.fields}
    assert fields["host"].tooltip == "Where" and fields["host"].tab_index == 2
    assert fields["api_key"].secret and fields["api_key"].required
    assert fields["region"].allowed_values == (("Europe", "eu"), ("us", "us"))
    assert fields["hidden"].hidden and not fields["hidden"].required
    assert [f.kind for f in only.fields].count("gatewaySetting") == 1
    assert form.redirect_url is None


def test_multi_auth_offers_each_set(db, team, ada) -> None:
    sets = [
        {"name": "key", "uiDefinition": {"displayName": "API key"}, "parameters": {"api_key": secure("Key")}},
        {"name": "basic", "parameters": {"username": text("User"), "password": secure("Password")}},
    ]
    create_connector(db, ada, team, package("Multi", {"legacy": secure("Old")}, sets=sets), name="multi")
    assert [s.name for s in connection_form(db, ada, team, "multi", public_url=PUBLIC_URL).sets] == [
        "key",
        "basic",
    ]


def test_one_error_lists_every_bad_field(db, team, ada, ring) -> None:
    parameters = {
        "api_key": secure("Key"),
        "retries": {"type": "int"},
        "verbose": {"type": "bool"},
        "region": text("Region", required=False, allowedValues=[{"value": "eu"}]),
    }
    create_connector(db, ada, team, package("Checked", parameters), name="checked")
    with pytest.raises(ValidationFailed) as failed:
        _create(
            db,
            ada,
            team,
            "checked",
            {"retries": "many", "verbose": "perhaps", "region": "mars", "x": "1"},
            ring,
        )
    fields = sorted(issue["field"] for issue in failed.value.issues)
    assert fields == ["api_key", "region", "retries", "verbose", "x"]
    assert "mars" not in failed.value.message  # values are never echoed (they may be secrets)


def test_create_list_get_update_delete_and_ownership(db, team, ada, make_user, ring) -> None:
    create_connector(db, ada, team, api_key_package(), name="keyed")
    info = _create(db, ada, team, "keyed", {"api_key": "k-1"}, ring, display_name="Mine")
    assert (info.status, info.parameters, info.display_name) == ("connected", ("api_key",), "Mine")
    assert "k-1" not in json.dumps(info.__repr__())
    bob = make_user("bob", environment=team, role="user")
    boss = make_user("boss", environment=team, role="admin")
    assert list_connections(db, bob, team) == []
    assert [c.id for c in list_connections(db, boss, team)] == [info.id]
    with pytest.raises(NotFound):
        get_connection(db, bob, team, info.id)
    with pytest.raises(PermissionDenied):
        update_connection(db, boss, team, info.id, keyring=ring, public_url=PUBLIC_URL, display_name="x")
    updated = update_connection(
        db, ada, team, info.id, keyring=ring, public_url=PUBLIC_URL, values={"api_key": "k-2"}
    )
    with db.session() as session:
        assert ring.decrypt_json(Connections(session).get(info.id).secret_values) == {"api_key": "k-2"}
    assert updated.parameters == ("api_key",)
    delete_connection(db, boss, team, info.id)
    with pytest.raises(NotFound):
        get_connection(db, ada, team, info.id)


BASIC_SENT = ("header", "Authorization", "Basic dTpw")


async def _check(db, admin, *args, handler, **options):
    """The connection test on a runtime whose wire is ``handler`` (edge cases no server produces);
    the environment allows the test hosts on 127.0.0.1, as the network policy is obeyed."""
    set_environment_settings(db, admin, args[1], network_allow=["127.0.0.1"])
    async with Runtime(transport=httpx.MockTransport(handler), rate_limit=None) as runtime:
        return await check_connection(db, *args, runtime=runtime, **options)


@pytest.mark.parametrize(
    ("maker", "values", "expected"),
    [
        pytest.param(
            lambda: api_key_package("header"), {"api_key": "hk"}, ("header", "X-Api-Key", "hk"), id="header"
        ),
        pytest.param(lambda: api_key_package("query"), {"api_key": "qk"}, ("query", "key", "qk"), id="query"),
        pytest.param(basic_package, {"username": "u", "password": "p"}, BASIC_SENT, id="basic"),
    ],
)  # fmt: skip
def test_test_connection_sends_the_credentials(db, admin, team, ada, ring, maker, values, expected) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    connector = create_connector(db, ada, team, maker(), name="target")
    info = _create(db, ada, team, "target", values, ring)
    result = run(_check(db, admin, ada, team, info.id, keyring=ring, operation="Me", handler=handler))
    assert result.ok and result.operation == "Me"
    where, name, value = expected
    sent = seen[0].headers.get(name) if where == "header" else seen[0].url.params.get(name)
    assert sent == value and value not in result.url
    assert connector.name == "target"


def test_test_connection_uses_the_declared_test_operation(db, admin, team, ada, ring) -> None:
    paths = {
        "/ping/{x}": {
            "get": {
                "operationId": "Ping",
                "parameters": [{"name": "x", "in": "path", "required": True, "type": "string"}],
                "responses": {"200": {"description": "ok"}},
            }
        }
    }
    capability = {"testConnection": {"operationId": "Ping", "parameters": {"x": "y"}}}
    create_connector(db, ada, team, package("Pinged", paths=paths, capabilities=capability), name="pinged")
    info = _create(db, ada, team, "pinged", {}, ring)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401 if request.url.path != "/ping/y" else 204)

    result = run(_check(db, admin, ada, team, info.id, keyring=ring, handler=handler))
    assert (result.ok, result.status_code, result.operation) == (True, 204, "Ping")


def test_rotate_keys_keeps_every_connection_readable(db, team, ada, admin, ring) -> None:
    create_connector(db, ada, team, api_key_package(), name="keyed")
    ids = [_create(db, ada, team, "keyed", {"api_key": f"key-{n}"}, ring).id for n in range(5)]
    result = rotate_keys(db, admin, ring, batch_size=2)
    assert (result.keys, result.reencrypted) == (2, 5)
    with db.session() as session:
        for n, connection_id in enumerate(ids):
            stored = Connections(session).get(connection_id).secret_values
            assert ring.is_current(stored) and ring.decrypt_json(stored) == {"api_key": f"key-{n}"}
    with pytest.raises(PermissionDenied):
        rotate_keys(db, ada, ring)


def test_form_builder_is_pure(db) -> None:
    from tether.definition import parse_api_properties

    props = parse_api_properties({"properties": {"connectionParameters": {"k": secure("K")}}}, name="x")
    assert build_connection_form(props)[0].fields[0].name == "k"
