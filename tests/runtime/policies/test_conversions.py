"""convertobjecttoarray, convertarraytoobject, stringtoarray, with corpus instances."""

from __future__ import annotations

import httpx

from tests.runtime.policies._support import api_for, call, sent_json

# independent-publisher-connectors/Pushover
PUSHOVER_SOUNDS = {
    "templateId": "convertobjecttoarray",
    "title": "SoundsArray",
    "parameters": {
        "x-ms-apimTemplateParameter.propertyParentPath": "@body()",
        "x-ms-apimTemplateParameter.propertySubPath": "sounds",
        "x-ms-apimTemplateParameter.newPropertyPath": "@body().soundsArray",
        "x-ms-apimTemplateParameter.keyName": "sound",
        "x-ms-apimTemplateParameter.valueName": "description",
        "x-ms-apimTemplate-policySection": "Response",
        "x-ms-apimTemplate-operationName": ["GetSounds"],
    },
}
# certified-connectors/Planner
PLANNER_REFERENCES = {
    "parameters": {
        "x-ms-apimTemplate-operationName": ["UpdateTaskDetails_V2"],
        "x-ms-apimTemplateParameter.propertyParentPath": "@body()",
        "x-ms-apimTemplateParameter.propertySubPath": "references",
        "x-ms-apimTemplateParameter.keyWithinCollectionPath": "resourceLink",
        "x-ms-apimTemplateParameter.newPropertyPath": "@body().references",
        "x-ms-apimTemplateParameter.retainKey": "false",
        "x-ms-apimTemplate-policySection": "Request",
    },
    "templateId": "ConvertArrayToObject",
    "title": "Convert array of references to object",
}
# certified-connectors/Planner
PLANNER_ASSIGNEES = {
    "parameters": {
        "x-ms-apimTemplate-operationName": ["CreateTask_V3", "CreateTask_V4", "UnassignUsers", "AssignUsers"],
        "x-ms-apimTemplateParameter.propertyParentPath": "@body()",
        "x-ms-apimTemplateParameter.propertySubPath": "assignments",
        "x-ms-apimTemplateParameter.delimiterList": ";",
        "x-ms-apimTemplateParameter.childPropertyName": "userId",
        "x-ms-apimTemplateParameter.newPropertyPath": "@body().assignments",
        "x-ms-apimTemplate-policySection": "Request",
    },
    "templateId": "StringToArray",
    "title": "Convert semi-colon separated user ids to array",
}


def test_convertobjecttoarray_on_the_response() -> None:
    api = api_for("/sounds.json", operation_id="GetSounds")
    sounds = {"sounds": {"pushover": "Pushover (default)", "bike": "Bike"}, "status": 1}
    response, _ = call(
        [PUSHOVER_SOUNDS],
        api,
        "https://api.example.com/sounds.json",
        operation_id="GetSounds",
        responder=lambda r: httpx.Response(200, json=sounds),
    )
    assert response.json()["soundsArray"] == [
        {"sound": "pushover", "description": "Pushover (default)"},
        {"sound": "bike", "description": "Bike"},
    ]
    assert response.json()["sounds"] == sounds["sounds"]


def test_convertarraytoobject_keys_by_a_member_and_drops_it() -> None:
    api = api_for("/tasks/{id}/details", "patch", operation_id="UpdateTaskDetails_V2")
    body = {
        "references": [{"resourceLink": "https%3A//x", "alias": "X"}, {"resourceLink": "y", "alias": "Y"}]
    }
    _, sent = call(
        [PLANNER_REFERENCES],
        api,
        "https://api.example.com/tasks/t1/details",
        operation_id="UpdateTaskDetails_V2",
        body=body,
    )
    assert sent_json(sent) == {"references": {"https%3A//x": {"alias": "X"}, "y": {"alias": "Y"}}}


def test_stringtoarray_splits_trims_and_drops_empty_parts() -> None:
    api = api_for("/tasks", "post", operation_id="CreateTask_V4")
    _, sent = call(
        [PLANNER_ASSIGNEES],
        api,
        "https://api.example.com/tasks",
        operation_id="CreateTask_V4",
        body={"title": "t", "assignments": "u1; u2;;"},
    )
    assert sent_json(sent) == {"title": "t", "assignments": [{"userId": "u1"}, {"userId": "u2"}]}
