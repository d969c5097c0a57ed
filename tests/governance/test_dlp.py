"""Data policies on a real server: mixing business and non-business connectors (or using a blocked
one) cannot be saved or enabled; reclassifying a connector suspends the flows it breaks, with the
reason on the flow; the Http action's endpoint rules refuse a denied host at save (a literal URI)
and at run time (a computed one)."""

from __future__ import annotations

import time
from typing import Any

from tests.governance._kit import API_KEY, definition, package_zip, png
from tests.governance.conftest import Gov


def _call(reference: str) -> dict[str, Any]:
    return {
        "type": "ApiConnection",
        "inputs": {
            "host": {"connection": {"name": f"@parameters('$connections')['{reference}']['connectionId']"}},
            "method": "get",
            "path": "/greet",
            "queries": {"name": "flow"},
        },
    }


def _http(uri: str, after: str | None = None) -> dict[str, Any]:
    action: dict[str, Any] = {"type": "Http", "inputs": {"method": "GET", "uri": uri}}
    if after:
        action["runAfter"] = {after: ["Succeeded"]}
    return action


def _flow(
    name: str, actions: dict[str, Any], connections: dict[str, str], enabled: bool = True
) -> dict[str, Any]:
    definition = {"triggers": {"manual": {"type": "Request", "kind": "Http"}}, "actions": actions}
    return {"name": name, "definition": definition, "connections": connections, "enabled": enabled}


def _setup(gov: Gov) -> tuple[str, dict[str, str]]:
    """An environment with two Greeter connectors (crm, social) and ada's connection to each."""
    env = gov.environment()
    package = package_zip(definition(gov.greeter), icon=png(16, 16))
    connections = {}
    for name in ("crm", "social"):
        gov.connector("ada", env, package, name)
        connections[name] = gov.connection("ada", env, name, API_KEY)
    return env, connections


def _classify(gov: Gov, env: str, connector: str, group: str | None) -> dict[str, Any]:
    answer = gov["admin"].put(
        f"/environments/{env}/data-policy/connectors/{connector}", json={"group": group}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_mixing_business_and_non_business_connectors_blocks_saving_and_enabling(gov: Gov) -> None:
    env, connections = _setup(gov)
    flows = f"/environments/{env}/flows"
    policy = _classify(gov, env, "crm", "business")
    groups = {c["name"]: (c["group"], c["explicit"]) for c in policy["connectors"]}
    assert groups == {
        "crm": ("business", True),
        "social": ("non-business", False),
        "HTTP": ("non-business", False),
    }

    mixed = _flow("mixed", {"CRM": _call("crm"), "Social": _call("social")}, connections)
    refused = gov["ada"].post(flows, json=mixed)
    assert refused.status_code == 422, refused.text
    assert refused.json()["type"].endswith("data-policy-violation")
    detail = refused.json()["detail"]
    crm_id = next(c["key"] for c in policy["connectors"] if c["name"] == "crm")
    assert f"business connector(s) crm ({crm_id})" in detail and "non-business connector(s) social" in detail
    assert gov["ada"].get(f"{flows}/mixed").status_code == 404  # nothing was saved

    alone = gov["ada"].post(flows, json=_flow("crm-only", {"CRM": _call("crm")}, {"crm": connections["crm"]}))
    assert alone.status_code == 201, alone.text
    with_http = _flow(
        "x", {"CRM": _call("crm"), "Notify": _http("https://hooks.example.test/x", after="CRM")}, {}
    )
    edit = gov["ada"].patch(f"{flows}/crm-only", json={"definition": with_http["definition"]})
    assert edit.status_code == 422 and "HTTP (builtin:http)" in edit.json()["detail"]

    social = _flow("social-http", {"Social": _call("social"), "Notify": _http("https://hooks.example.test/x")},
                   {"social": connections["social"]}, enabled=False)  # fmt: skip
    assert gov["ada"].post(flows, json=social).status_code == 201  # both non-business: compliant
    _classify(gov, env, "social", "business")
    enabling = gov["ada"].post(f"{flows}/social-http/enable")
    assert enabling.status_code == 422, enabling.text
    assert "business connector(s) social" in enabling.json()["detail"]
    assert "non-business connector(s) HTTP (builtin:http)" in enabling.json()["detail"]
    assert gov["ada"].get(f"{flows}/social-http").json()["enabled"] is False
    by_hand = gov["ada"].post(f"{flows}/social-http/runs", json={})  # nor run by hand while disabled
    assert by_hand.status_code == 422 and "mixes business" in by_hand.json()["detail"]

    _classify(gov, env, "builtin:http", "business")  # the admin puts HTTP with them: now compliant
    assert gov["ada"].post(f"{flows}/social-http/enable").json()["enabled"] is True


def test_a_blocked_connector_cannot_be_used(gov: Gov) -> None:
    env, connections = _setup(gov)
    _classify(gov, env, "social", "blocked")
    _classify(gov, env, "builtin:http", "blocked")
    flows = f"/environments/{env}/flows"
    social = _flow("social-only", {"Social": _call("social")}, {"social": connections["social"]})
    refused = gov["ada"].post(flows, json=social)
    assert refused.status_code == 422
    assert "uses blocked connector(s) social (" in refused.json()["detail"]
    http = gov["ada"].post(
        flows, json=_flow("http-only", {"Notify": _http("https://hooks.example.test/x")}, {})
    )
    assert http.status_code == 422
    assert "uses blocked connector(s) HTTP (builtin:http)" in http.json()["detail"]
    crm = _flow("crm-only", {"CRM": _call("crm")}, {"crm": connections["crm"]})
    assert gov["ada"].post(flows, json=crm).status_code == 201  # the others are unaffected


def test_reclassifying_a_connector_suspends_the_flows_it_breaks_with_the_reason_on_the_flow(gov: Gov) -> None:
    env, connections = _setup(gov)
    flows = f"/environments/{env}/flows"
    both = _flow("both", {"CRM": _call("crm"), "Social": _call("social")}, connections)
    assert gov["ada"].post(flows, json=both).status_code == 201  # no classification yet: compliant
    only = _flow("only-crm", {"CRM": _call("crm")}, {"crm": connections["crm"]})
    assert gov["ada"].post(flows, json=only).status_code == 201

    policy = _classify(gov, env, "crm", "business")

    assert policy["suspended"] == ["both"]
    suspended = gov["ada"].get(f"{flows}/both").json()
    assert suspended["enabled"] is False
    assert "mixes business connector(s) crm" in suspended["suspended_reason"]
    assert "non-business connector(s) social" in suspended["suspended_reason"]
    untouched = gov["ada"].get(f"{flows}/only-crm").json()
    assert (untouched["enabled"], untouched["suspended_reason"]) == (True, None)
    audit = gov["admin"].get(f"/environments/{env}/audit", params={"action": "flow.suspend"}).json()["items"]
    assert [event["detail"]["name"] for event in audit] == ["both"]

    _classify(gov, env, "crm", None)  # back to the default group: compliant again, enabled by its owner
    enabled = gov["ada"].post(f"{flows}/both/enable").json()
    assert (enabled["enabled"], enabled["suspended_reason"]) == (True, None)


def test_http_endpoint_rules_refuse_a_denied_host_at_save_and_at_run_time(gov: Gov) -> None:
    env = gov.environment()
    flows = f"/environments/{env}/flows"
    bad = gov["admin"].patch(
        f"/environments/{env}/data-policy", json={"http_denied_hosts": ["https://x.test/"]}
    )
    assert bad.status_code == 400 and "not host patterns" in bad.json()["detail"]
    assert gov["ada"].patch(f"/environments/{env}/data-policy", json={"http_denied_hosts": ["*.blocked.test"]}
                            ).status_code == 403  # fmt: skip
    policy = gov["admin"].patch(
        f"/environments/{env}/data-policy", json={"http_denied_hosts": ["*.blocked.test"]}
    )
    assert policy.status_code == 200 and policy.json()["http_denied_hosts"] == ["*.blocked.test"]

    literal = _flow("literal", {"Call": _http("https://api.blocked.test/items")}, {})
    refused = gov["ada"].post(flows, json=literal)
    assert refused.status_code == 422
    assert "'api.blocked.test' matches the denied pattern '*.blocked.test'" in refused.json()["detail"]

    computed = _flow("computed", {"Call": _http("@{concat('https://api.', 'blocked.test', '/items')}")}, {})
    assert gov["ada"].post(flows, json=computed).status_code == 201  # not knowable before the run
    run = gov["ada"].post(f"{flows}/computed/runs", json={})
    assert run.status_code == 202, run.text
    detail = _finished(gov, f"{flows}/computed/runs/{run.json()['id']}")
    assert detail["run"]["status"] == "Failed"
    action = next(a for a in detail["actions"] if a["name"] == "Call")
    assert action["error"]["code"] == "DataPolicyViolation"
    assert "matches the denied pattern '*.blocked.test'" in action["error"]["message"]


def _finished(gov: Gov, path: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        detail = gov["ada"].get(path).json()
        if detail["run"]["status"] not in ("Waiting", "Running", "Queued"):
            return detail
        assert time.monotonic() < deadline, detail["run"]
        time.sleep(0.05)


def test_a_redirect_to_a_denied_host_is_refused_before_it_is_followed(gov: Gov) -> None:
    env = gov.environment()
    flows = f"/environments/{env}/flows"
    denied = {"http_denied_hosts": ["127.0.0.2"]}
    assert gov["admin"].patch(f"/environments/{env}/data-policy", json=denied).status_code == 200
    uri = f"{gov.redirector}/go?to=http://127.0.0.2:9/secret"  # the literal host (127.0.0.1) is allowed
    assert gov["ada"].post(flows, json=_flow("hop", {"Call": _http(uri)}, {})).status_code == 201
    run = gov["ada"].post(f"{flows}/hop/runs", json={})
    detail = _finished(gov, f"{flows}/hop/runs/{run.json()['id']}")
    action = next(a for a in detail["actions"] if a["name"] == "Call")
    assert action["error"]["code"] == "DataPolicyViolation", action["error"]
    assert "'127.0.0.2' matches the denied pattern '127.0.0.2'" in action["error"]["message"]
