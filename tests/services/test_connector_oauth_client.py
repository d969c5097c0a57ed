"""OAuth apps for imported and corpus connectors, against a real authorization server.

Swagger's ``flow: application`` imports as a client-credentials connection with no hidden
``customParameters`` setting; a placeholder client id (``<Enter Your Client ID>``, as in the
corpus's Zoho Mail) is never sent anywhere: the owner sets the real app at create/update
(``--client-id``/``--client-secret``), and until then connections are refused with that advice.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from tests._paths import CORPUS, need
from tests.services._connections_kit import PUBLIC_URL, run
from tether.auth import OAuth2Auth
from tether.definition import is_placeholder_client_id, load_package
from tether.errors import InputError
from tether.importers import import_openapi
from tether.secrets import KeyRing
from tether.services import ConnectionTokenSource, create_connection, create_connector, update_connector

PETSTORE = Path(__file__).parents[1] / "importers" / "data" / "go-openapi-simplepetstore.json"


@pytest.fixture
def ring() -> KeyRing:
    return KeyRing.from_keys(KeyRing.generate_key())


@pytest.fixture
def alice(make_user, team):
    return make_user("alice", environment=team, role="maker")


def _application_flow_package(tmp_path: Path, server):
    """The go-openapi petstore, secured the Swagger 2.0 way with ``flow: application``."""
    doc = json.loads(PETSTORE.read_text())
    doc["securityDefinitions"] = {
        "petstore_auth": {"type": "oauth2", "flow": "application", "tokenUrl": server.token_url, "scopes": {}}
    }
    doc["security"] = [{"petstore_auth": []}]
    source = tmp_path / "petstore.json"
    source.write_text(json.dumps(doc))
    return import_openapi(source).package


async def _call(db, ring, server, connection_id):
    async with httpx.AsyncClient() as client:
        auth = OAuth2Auth(ConnectionTokenSource(db, connection_id, keyring=ring))
        return await asyncio.gather(client.get(f"{server.base_url}/api/me", auth=auth))


def test_application_flow_is_client_credentials_without_hidden_settings(
    db, team, alice, oauth_server, ring, tmp_path
) -> None:
    package = _application_flow_package(tmp_path, oauth_server)
    settings = package.properties.data["properties"]["connectionParameters"]["token"]["oAuthSettings"]
    assert "grantType" not in settings["customParameters"]
    assert is_placeholder_client_id(settings["clientId"])
    before = oauth_server.token_requests()
    create_connector(db, alice, team, package, name="pets")
    with pytest.raises(InputError, match="placeholder"):
        create_connection(db, alice, team, "pets", {}, keyring=ring, public_url=PUBLIC_URL)
    assert oauth_server.token_requests() == before, "a placeholder is never sent"

    update_connector(
        db, alice, team, "pets", package,
        client_id=oauth_server.service_client_id, client_secret=oauth_server.service_client_secret,
    )  # fmt: skip
    info = create_connection(db, alice, team, "pets", {}, keyring=ring, public_url=PUBLIC_URL)
    assert (info.status, info.grant, info.consent_url) == ("connected", "client_credentials", None)
    [answer] = run(_call(db, ring, oauth_server, info.id))
    assert answer.status_code == 200 and answer.json()["client_id"] == oauth_server.service_client_id


def test_corpus_placeholder_client_id_is_refused_until_the_owner_sets_one(db, team, alice, ring) -> None:
    package = load_package(need(CORPUS / "certified-connectors" / "Zoho Mail"))
    oauth = json.dumps(package.properties.data)
    assert "<Enter Your Client ID>" in oauth
    create_connector(db, alice, team, package, name="zoho")
    region = {"token:customHost": ".com"}
    with pytest.raises(InputError, match="placeholder"):
        create_connection(db, alice, team, "zoho", region, keyring=ring, public_url=PUBLIC_URL)
    with pytest.raises(InputError, match="placeholder"):
        update_connector(db, alice, team, "zoho", package, client_id="<Enter Your Client ID>")
    update_connector(db, alice, team, "zoho", package, client_id="1000.Q3JKZB7W8LTH", client_secret="s3cret")
    info = create_connection(db, alice, team, "zoho", region, keyring=ring, public_url=PUBLIC_URL)
    assert info.status == "needs-consent" and info.consent_url


def test_validate_warns_about_a_placeholder_client_id() -> None:
    from typer.testing import CliRunner

    from tether.cli import app

    connector = need(CORPUS / "certified-connectors" / "Zoho Mail")
    run = CliRunner().invoke(app, ["validate", str(connector)])
    assert "properties/placeholder-client-id" in run.output and "<Enter Your Client ID>" in run.output
    assert "--client-id" in run.output
