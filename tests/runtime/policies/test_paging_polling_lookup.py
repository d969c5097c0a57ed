"""updatenextlink, pollingtrigger, setvaluefromurl and setconnectionstatustounauthenticated.

Instances are copied from corpus connectors.
"""

from __future__ import annotations

import httpx
import pytest

from tests.runtime.policies._support import api_for, call
from tether.runtime.policies import (
    TRIGGER_STATE_ARGUMENT,
    ConnectionUnauthenticated,
    PolicyError,
    polling_trigger,
)

# certified-connectors/Almabase (its x-ms-pageable says "nextlink")
ALMABASE_NEXT = {
    "templateId": "updatenextlink",
    "title": "Updates next link to make paging work for giving",
    "parameters": {
        "x-ms-apimTemplate-operationName": ["ListGifts"],
        "x-ms-apimTemplateParameter.nextLinkPropertyName": "nextLink",
    },
}
# certified-connectors/MicrosoftGraphSecurity
GRAPH_ALERTS = {
    "parameters": {
        "x-ms-apimTemplate-operationName": ["OnAllNewAlerts"],
        "x-ms-apimTemplateParameter.triggerConfig": {
            "$filter": "lastModifiedDateTime gt @{triggerBody().value[0].lastModifiedDateTime}"
        },
        "x-ms-apimTemplateParameter.triggerDataPath": "@triggerBody().value",
    },
    "templateId": "pollingtrigger",
    "title": "PollingTriggerPolicy_244e5aa7-92ba-67d0-028c-3dd9de2d7f3f",
    "type": "PollingTrigger",
}
# certified-connectors/Planner
PLANNER_ETAG = {
    "parameters": {
        "x-ms-apimTemplate-operationName": ["UpdateTaskDetails_V2"],
        "x-ms-apimTemplateParameter.parameterTemplate": "@headers('If-Match')",
        "x-ms-apimTemplateParameter.parameterValueUrl": "/v1.0/planner/tasks/{id}/details",
        "x-ms-apimTemplateParameter.parameterValuePathTemplate": "@body()['@odata.etag']",
        "x-ms-apimTemplateParameter.httpMethod": "GET",
        "x-ms-apimTemplate-policySection": "Request",
    },
    "templateId": "SetValueFromUrl",
    "title": "Set If-Match header for update task details",
}
# certified-connectors/DeskDirector
DESKDIRECTOR_401 = {
    "templateId": "setconnectionstatustounauthenticated",
    "title": "Set unauthorized status",
    "parameters": {"x-ms-apimTemplateParameter.statusCode": 401},
}


def test_updatenextlink_resolves_a_relative_link_and_copies_it_to_the_pageable_name() -> None:
    api = api_for("/v1/givingx/gifts/", operation_id="ListGifts", base_path="/api/", pageable="nextlink")
    page = {"results": [], "nextLink": "/api/v1/givingx/gifts/?page=2"}
    response, _ = call(
        [ALMABASE_NEXT],
        api,
        "https://api.example.com/api/v1/givingx/gifts/",
        operation_id="ListGifts",
        responder=lambda r: httpx.Response(200, json=page),
    )
    expected = "https://api.example.com/api/v1/givingx/gifts/?page=2"
    assert response.json()["nextLink"] == expected
    assert response.json()["nextlink"] == expected


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        pytest.param(None, None, id="first-poll"),
        pytest.param({"value": []}, None, id="empty-last-page"),
        pytest.param(
            {"value": [{"lastModifiedDateTime": "2024-05-01T10:00:00Z"}]},
            "lastModifiedDateTime gt 2024-05-01T10:00:00Z",
            id="cursor",
        ),
    ],
)
def test_pollingtrigger_rewrites_the_cursor_from_the_last_trigger_body(state, expected) -> None:
    api = api_for("/alerts", operation_id="OnAllNewAlerts")
    arguments = {TRIGGER_STATE_ARGUMENT: state} if state is not None else {}
    _, sent = call(
        [GRAPH_ALERTS],
        api,
        "https://api.example.com/alerts",
        operation_id="OnAllNewAlerts",
        arguments=arguments,
    )
    assert sent.request.url.params.get("$filter") == expected


def test_pollingtrigger_configuration_for_the_triggers_engine() -> None:
    trigger = polling_trigger([GRAPH_ALERTS], "OnAllNewAlerts")
    assert trigger is not None and polling_trigger([GRAPH_ALERTS], "Other") is None
    body = {"value": [{"id": 1}, {"id": 2}], "@odata.nextLink": "https://next"}
    assert trigger.items(body) == [{"id": 1}, {"id": 2}]
    assert trigger.next_link(body) == "https://next"
    assert trigger.query_parameters({"value": [{"lastModifiedDateTime": "t"}]}) == {
        "$filter": "lastModifiedDateTime gt t"
    }


def test_setvaluefromurl_fetches_a_header_value_through_the_pipeline() -> None:
    def backend(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"@odata.etag": 'W/"abc"'})
        return httpx.Response(204)

    api = api_for("/v2/tasks/{id}/details", "patch", operation_id="UpdateTaskDetails_V2")
    _, sent = call(
        [PLANNER_ETAG],
        api,
        "https://graph.example.com/v2/tasks/t-9/details",
        operation_id="UpdateTaskDetails_V2",
        body={"description": "d"},
        headers={"Authorization": "Bearer x"},
        responder=backend,
    )
    side, main = (e.request for e in sent.exchanges)
    assert (side.method, str(side.url)) == ("GET", "https://graph.example.com/v1.0/planner/tasks/t-9/details")
    assert side.headers["authorization"] == "Bearer x" and side.content == b""
    assert main.method == "PATCH" and main.headers["if-match"] == 'W/"abc"'


def test_setvaluefromurl_failure_is_a_policy_error() -> None:
    api = api_for("/v2/tasks/{id}/details", "patch", operation_id="UpdateTaskDetails_V2")
    with pytest.raises(PolicyError, match="answered 404"):
        call(
            [PLANNER_ETAG],
            api,
            "https://graph.example.com/v2/tasks/t-9/details",
            operation_id="UpdateTaskDetails_V2",
            body={},
            responder=lambda r: httpx.Response(404),
        )


def test_setconnectionstatustounauthenticated_on_its_status_only() -> None:
    api = api_for("/tickets")
    with pytest.raises(ConnectionUnauthenticated) as caught:
        call(
            [DESKDIRECTOR_401],
            api,
            "https://api.example.com/tickets",
            responder=lambda r: httpx.Response(401),
        )
    assert caught.value.detail == {"connection_id": "c1", "status": 401}
    response, _ = call(
        [DESKDIRECTOR_401], api, "https://api.example.com/tickets", responder=lambda r: httpx.Response(403)
    )
    assert response.status_code == 403
