"""Publishing to the catalog never carries the publisher's OAuth client secret; installing needs your own."""

from __future__ import annotations

import json
from collections.abc import Callable

from tests.governance._kit import definition, package_zip, png, properties
from tether.definition import package_from_zip
from tether.secrets import KeyRing
from tether.services import Principal, create_connector, install_catalog_entry
from tether.services._catalog import publish
from tether.services._certification import certification_states
from tether.services._client_secrets import CLIENT_SECRET_PLACEHOLDER
from tether.store import Catalog, CertificationRequest, Certifications, Connector, Connectors, Database

SECRET = "publisher-oauth-secret-value"


def _oauth_properties() -> dict:
    oauth = {
        "type": "oauthSetting",
        "oAuthSettings": {
            "identityProvider": "oauth2",
            "clientId": "publisher-app",
            "clientSecret": SECRET,
            "scopes": [],
            "redirectMode": "GlobalPerConnector",
            "customParameters": {
                "authorizationUrl": {"value": "https://login.example.test/authorize"},
                "tokenUrl": {"value": "https://login.example.test/token"},
                "refreshUrl": {"value": "https://login.example.test/token"},
            },
        },
    }
    return properties(connectionParameters={"token": oauth})


def test_the_catalog_copy_hides_the_client_secret_and_installs_take_their_own(
    db: Database, team: str, make_user: Callable[..., Principal]
) -> None:
    ring = KeyRing.from_keys(KeyRing.generate_key())
    ada = make_user("ada", environment=team, role="maker")
    package = package_from_zip(package_zip(definition("api.example.test"), _oauth_properties(), png(8, 8)))
    info = create_connector(db, ada, team, package, name="oauth-greeter", keyring=ring)
    with db.session() as session:
        connector = Connectors(session).find(info.environment_id, info.id)
        assert connector is not None
        request = Certifications(session).add(
            CertificationRequest(
                connector_id=connector.id, environment_id=info.environment_id, revision=1, state="approved",
                readme="A readme long enough to pass.", checks=[], submitted_by=ada.user_id,
            )
        )  # fmt: skip
        revision = Connectors(session).revision(connector.id, 1)
        assert revision is not None
        entry = publish(session, connector, request, Connectors(session).files(revision))
        published = Catalog(session).files(entry)
    assert all(SECRET.encode() not in content for content in published.values())
    settings = json.loads(published["apiProperties.json"])["properties"]["connectionParameters"]["token"]
    assert settings["oAuthSettings"]["clientSecret"] == CLIENT_SECRET_PLACEHOLDER

    installed = install_catalog_entry(
        db, ada, "oauth-greeter", team, connector_name="mine", client_id="my-app", client_secret="my-secret",
        keyring=ring,
    )  # fmt: skip
    with db.session() as session:
        found = Connectors(session).find(installed.environment_id, installed.id)
        assert found is not None
        revision = Connectors(session).revision(found.id, 1)
        assert revision is not None
        stored = Connectors(session).files(revision)["apiProperties.json"]
    assert SECRET.encode() not in stored and b"my-secret" not in stored  # sealed at rest
    assert (
        json.loads(stored)["properties"]["connectionParameters"]["token"]["oAuthSettings"]["clientId"]
        == "my-app"
    )


def test_certification_states_for_listings(
    db: Database, team: str, make_user: Callable[..., Principal]
) -> None:
    ada = make_user("ada", environment=team, role="maker")
    package = package_from_zip(package_zip(definition("api.example.test"), properties(), png(8, 8)))
    ids = [create_connector(db, ada, team, package, name=name).id for name in ("never", "waiting", "live")]
    with db.session() as session:
        environment_id = session.get(Connector, ids[0]).environment_id
        for connector_id, state, number in (
            (ids[1], "pending", 1),
            (ids[2], "approved", 1),
            (ids[2], "pending", 2),
        ):
            request = Certifications(session).add(
                CertificationRequest(
                    connector_id=connector_id, environment_id=environment_id, revision=number, state=state,
                    readme="", checks=[], submitted_by=ada.user_id,
                )
            )  # fmt: skip
            if state == "approved":
                connector = session.get(Connector, connector_id)
                revision = Connectors(session).revision(connector_id, 1)
                publish(session, connector, request, Connectors(session).files(revision))
        states = certification_states(session, ids)
    assert states == {ids[0]: "none", ids[1]: "pending", ids[2]: "certified, update pending"}
