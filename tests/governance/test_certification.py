"""Certification end to end on a real server: the automatic checks refuse a failing connector naming
each rule and location; a passing one goes submit -> review -> approve -> catalog -> installed and
called from another environment; a rejection's comments reach the owner; a new revision of a
certified connector waits for review while the certified one stays live."""

from __future__ import annotations

import itertools
from typing import Any

from tests.governance._kit import API_KEY, README, definition, package_zip, png, properties
from tests.governance.conftest import Gov

_serial = itertools.count(1)


def _name() -> str:
    return f"greeter-{next(_serial)}"  # catalog names are global: one per test


def _certified_package(gov: Gov, **changes: Any) -> bytes:
    return package_zip(definition(gov.greeter, **changes), icon=png(64, 64))


def _submit(gov: Gov, user: str, env: str, connector: str, connection: str, readme: str = README):
    return gov[user].post(
        f"/environments/{env}/connectors/{connector}/certification",
        json={"connection": connection, "readme": readme},
    )


def _review(gov: Gov, request_id: str, verdict: str, comment: str | None = None, user: str = "cora"):
    return gov[user].post(
        f"/certification/requests/{request_id}/reviews", json={"verdict": verdict, "comment": comment}
    )


def test_a_failing_connector_cannot_be_submitted_and_each_rule_is_named_with_its_location(gov: Gov) -> None:
    env, name = gov.environment(), _name()
    doc = definition(
        gov.greeter, info={"title": "Greeter API", "version": "1.0", "description": "Too short."}
    )
    del doc["x-ms-connector-metadata"]
    doc["paths"]["/greet"]["get"]["parameters"][0].pop("description")
    bad = package_zip(doc, properties(iconBrandColor="#FAFBFA"), icon=png(64, 32))
    gov.connector("ada", env, bad, name)
    connection = gov.connection("ada", env, name, API_KEY)

    answer = _submit(gov, "ada", env, name, connection, readme="")

    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert problem["type"].endswith("certification-failed")
    found = {
        (issue["rule"], issue["file"].rsplit("/", 1)[-1], issue["pointer"]) for issue in problem["issues"]
    }
    assert {
        ("certification/title-forbidden-word", "apiDefinition.swagger.json", "/info/title"),
        ("certification/description-length", "apiDefinition.swagger.json", "/info/description"),
        ("certification/parameter-description-missing", "apiDefinition.swagger.json",
         "/paths/~1greet/get/parameters/0"),
        ("packaging/privacy-policy-missing", "apiDefinition.swagger.json", ""),
        ("packaging/brand-color-white", "apiProperties.json", "/properties/iconBrandColor"),
        ("packaging/icon-not-square", "icon.png", ""),
        ("packaging/readme-missing", "readme.md", ""),
    } <= found  # fmt: skip
    for rule, _file, _pointer in found:
        assert rule in problem["detail"]  # the message itself names every rule
    status = gov["ada"].get(f"/environments/{env}/connectors/{name}/certification")
    assert status.json()["items"] == []  # nothing was submitted


def test_a_test_connection_that_does_not_answer_refuses_the_submission(gov: Gov) -> None:
    env, name = gov.environment(), _name()
    gov.connector("ada", env, _certified_package(gov), name)
    connection = gov.connection("ada", env, name, "a-wrong-key")

    answer = _submit(gov, "ada", env, name, connection)

    assert answer.status_code == 422, answer.text
    issues = answer.json()["issues"]
    assert [(i["rule"], i["file"]) for i in issues] == [
        ("packaging/test-connection-failed", f"connection:{connection}")
    ]
    assert "refused the connection's credentials (401)" in issues[0]["message"]


def test_a_passing_connector_is_reviewed_published_installed_elsewhere_and_called(gov: Gov) -> None:
    home, elsewhere, name = gov.environment(), gov.environment(makers=("bob",)), _name()
    gov.connector("ada", home, _certified_package(gov), name)
    connection = gov.connection("ada", home, name, API_KEY)

    submitted = _submit(gov, "ada", home, name, connection)
    assert submitted.status_code == 201, submitted.text
    request = submitted.json()
    assert (request["state"], request["revision"], request["catalog_entry"]) == ("pending", 1, None)
    queue = gov["cora"].get("/certification/requests").json()["items"]
    assert request["id"] in [item["id"] for item in queue]
    assert gov["bob"].get("/catalog/" + name).status_code == 404  # not published before approval

    assert _review(gov, request["id"], "comment", "Looks good; checking the readme.").status_code == 200
    approved = _review(gov, request["id"], "approve")
    assert approved.status_code == 200, approved.text
    assert (approved.json()["state"], approved.json()["catalog_entry"]) == ("approved", name)

    listed = gov["bob"].get("/catalog").json()["items"]
    entry = next(item for item in listed if item["name"] == name)
    assert (entry["display_name"], entry["version"], entry["publisher"]) == ("Greeter", 1, "Tether tests")
    shown = gov["bob"].get(f"/catalog/{name}").json()
    assert shown["readme"] == README
    assert {op["operation_id"] for op in shown["operations"]} == {"GetStatus", "Greet"}

    installed = gov["bob"].post(f"/catalog/{name}/install", json={"environment": elsewhere})
    assert installed.status_code == 201, installed.text
    assert installed.json()["environment"] == elsewhere
    theirs = gov.connection("bob", elsewhere, name, API_KEY)  # connections are made per environment
    called = gov["bob"].post(
        f"/environments/{elsewhere}/connections/{theirs}/invoke/Greet", json={"name": "Bob"}
    )
    assert called.status_code == 200, called.text
    assert called.json()["body"] == {"message": "Hello, Bob"}


def test_a_rejected_submission_shows_the_reviewers_comments_to_its_owner(gov: Gov) -> None:
    env, name = gov.environment(), _name()
    gov.connector("ada", env, _certified_package(gov), name)
    connection = gov.connection("ada", env, name, API_KEY)
    request = _submit(gov, "ada", env, name, connection).json()

    assert _review(gov, request["id"], "reject").status_code == 400  # a rejection must say why
    rejected = _review(gov, request["id"], "reject", "The readme needs a section on rate limits.")
    assert rejected.status_code == 200, rejected.text

    mine = gov["ada"].get(f"/environments/{env}/connectors/{name}/certification").json()["items"]
    assert mine[0]["state"] == "rejected"
    assert mine[0]["reviewed_by"] == "cora"
    assert [(c["author"], c["verdict"], c["body"]) for c in mine[0]["comments"]] == [
        ("cora", "reject", "The readme needs a section on rate limits.")
    ]
    assert gov["ada"].get(f"/catalog/{name}").status_code == 404
    again = _review(gov, request["id"], "approve")
    assert again.status_code == 409  # decided requests stay decided; a new submission is the way


def test_a_new_revision_of_a_certified_connector_waits_for_review_while_the_certified_one_stays_live(
    gov: Gov,
) -> None:
    home, elsewhere, name = gov.environment(), gov.environment(makers=("bob",)), _name()
    gov.connector("ada", home, _certified_package(gov), name)
    connection = gov.connection("ada", home, name, API_KEY)
    first = _submit(gov, "ada", home, name, connection).json()
    assert _review(gov, first["id"], "approve").status_code == 200

    changed = definition(gov.greeter)
    changed["paths"]["/greet"]["get"]["summary"] = "Greet someone warmly"
    answer = gov["ada"].put(
        f"/environments/{home}/connectors/{name}",
        files={"package": ("p.zip", package_zip(changed, icon=png(64, 64)))},
    )
    assert answer.status_code == 200, answer.text
    second = _submit(gov, "ada", home, name, connection)
    assert second.status_code == 201, second.text
    assert (second.json()["revision"], second.json()["state"]) == (2, "pending")

    def greet_summary() -> str:
        operations = gov["bob"].get(f"/catalog/{name}").json()["operations"]
        return next(op["summary"] for op in operations if op["operation_id"] == "Greet")

    assert gov["bob"].get(f"/catalog/{name}").json()["version"] == 1
    assert greet_summary() == "Greet someone"  # the certified revision is what the catalog serves
    installed = gov["bob"].post(f"/catalog/{name}/install", json={"environment": elsewhere})
    assert installed.status_code == 201
    download = gov["bob"].get(f"/environments/{elsewhere}/connectors/{name}/download")
    assert b"Greet someone warmly" not in download.content

    assert _review(gov, second.json()["id"], "approve").status_code == 200
    assert gov["bob"].get(f"/catalog/{name}").json()["version"] == 2
    assert greet_summary() == "Greet someone warmly"
    history = gov["ada"].get(f"/environments/{home}/connectors/{name}/certification").json()["items"]
    assert [(item["revision"], item["state"]) for item in history] == [(2, "approved"), (1, "approved")]
