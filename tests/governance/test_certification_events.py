"""A certifier's decision is an event of the connector: its owner sees it, other makers do not."""

from __future__ import annotations

from tests.governance._kit import API_KEY, README, definition, package_zip, png
from tests.governance.conftest import Gov


def test_a_decision_is_a_certification_decided_event(gov: Gov) -> None:
    env = gov.environment(makers=("ada", "bob"), users=("cora",))
    gov.connector("bob", env, package_zip(definition(gov.greeter), icon=png(32, 32)), "decided-api")
    connection = gov.connection("bob", env, "decided-api", API_KEY)
    submitted = gov["bob"].post(
        f"/environments/{env}/connectors/decided-api/certification",
        json={"connection": connection, "readme": README},
    )
    assert submitted.status_code == 201, submitted.text
    reject = {"verdict": "reject", "comment": "Describe every operation."}
    assert (
        gov["cora"].post(f"/certification/requests/{submitted.json()['id']}/reviews", json=reject).is_success
    )

    def decided(user: str) -> list[dict]:
        answer = gov[user].get(f"/environments/{env}/events", params={"type": "certification.decided"})
        assert answer.status_code == 200, answer.text
        return list(answer.json()["items"])

    [event] = decided("bob")
    assert event["subject"]["name"] == "decided-api" and event["actor"] == "cora"
    assert event["data"]["decision"] == "rejected" and event["data"]["request"] == submitted.json()["id"]
    assert decided("ada") == []
