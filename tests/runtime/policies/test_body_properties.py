"""setproperty, moveproperties, stringreplace, encodepropertyvalue, with corpus instances."""

from __future__ import annotations

import asyncio

import httpx

from tests.runtime.policies._support import Recorder, api_for, call, sent_json
from tether.runtime import ConnectionContext, Exchange
from tether.runtime.policies import build_policy_stage

# certified-connectors/AzureAD: a reference spliced into text, a bracketed member name
AZUREAD_ODATA_ID = {
    "parameters": {
        "x-ms-apimTemplate-operationName": ["AddUserToGroup", "AssignManager"],
        "x-ms-apimTemplateParameter.newPropertyParentPathTemplate": "@body()",
        "x-ms-apimTemplateParameter.newPropertySubPathTemplate": "['@odata.id']",
        "x-ms-apimTemplateParameter.propertyValuePathTemplate": (
            "https://graph.microsoft.com/v1.0/directoryObjects/{@body()['@odata.id']}"
        ),
        "x-ms-apimTemplate-policySection": "Request",
    },
    "templateId": "SetProperty",
    "title": "Append graph url",
}
# certified-connectors/Blackbaud Church Management: wrap objects in arrays ("body()" without "@")
BLACKBAUD = [
    {
        "templateId": "setproperty",
        "title": "Set batch gift payments",
        "parameters": {
            "x-ms-apimTemplateParameter.newPropertyParentPathTemplate": "@body().gifts",
            "x-ms-apimTemplateParameter.newPropertySubPathTemplate": "payments",
            "x-ms-apimTemplateParameter.propertyValuePathTemplate": "[{@body().gifts.payments}]",
            "x-ms-apimTemplate-policySection": "Request",
            "x-ms-apimTemplate-operationName": ["AddGiftToBatch"],
        },
    },
    {
        "templateId": "setproperty",
        "title": "Set batch gifts",
        "parameters": {
            "x-ms-apimTemplateParameter.newPropertyParentPathTemplate": "body()",
            "x-ms-apimTemplateParameter.newPropertySubPathTemplate": "gifts",
            "x-ms-apimTemplateParameter.propertyValuePathTemplate": "[{@body().gifts}]",
            "x-ms-apimTemplate-policySection": "Request",
            "x-ms-apimTemplate-operationName": ["AddGiftToBatch"],
        },
    },
]
# certified-connectors/Oneflow: JSON text with an array spliced in
ONEFLOW_FILTERS = {
    "templateId": "setproperty",
    "title": "TransformWebhookFiltersPolicy",
    "parameters": {
        "x-ms-apimTemplateParameter.newPropertyParentPathTemplate": "@body()",
        "x-ms-apimTemplateParameter.newPropertySubPathTemplate": "filters",
        "x-ms-apimTemplateParameter.propertyValuePathTemplate": (
            '[{"filter_rules": [{"type": "EVENT_TYPE", "values": {@body().filters} }] }]'
        ),
        "x-ms-apimTemplate-policySection": "Request",
        "x-ms-apimTemplate-operationName": ["webhookRegister"],
    },
}
# certified-connectors/iObeya: a typed value on the response
IOBEYA_NEXT = {
    "templateId": "setproperty",
    "title": "Create a next link",
    "parameters": {
        "x-ms-apimTemplateParameter.newPropertyParentPathTemplate": "@body()",
        "x-ms-apimTemplateParameter.newPropertySubPathTemplate": "nextLink",
        "x-ms-apimTemplateParameter.propertyValuePathTemplate": "{@body().next}",
        "x-ms-apimTemplate-policySection": "Response",
        "x-ms-apimTemplate-operationName": ["ListRooms", "ListBoards"],
    },
}
# independent-publisher-connectors/FreeAgent: per-item shaping of a response array
FREEAGENT = [
    {
        "templateId": "stringreplace",
        "title": "Replace Invoice Url to ID",
        "parameters": {
            "x-ms-apimTemplate-operationName": ["ListInvoices"],
            "x-ms-apimTemplateParameter.propertyParentPath": "@body().invoices",
            "x-ms-apimTemplateParameter.propertySubPath": "url",
            "x-ms-apimTemplateParameter.sourceString": "https://api.freeagent.com/v2/invoices/",
            "x-ms-apimTemplateParameter.replacementString": "",
            "x-ms-apimTemplateParameter.newPropertyPath": "@item().id",
            "x-ms-apimTemplate-policySection": "Response",
        },
    },
    {
        "templateId": "setproperty",
        "title": "Set Title for Invoice",
        "parameters": {
            "x-ms-apimTemplate-operationName": ["ListInvoices"],
            "x-ms-apimTemplateParameter.newPropertyParentPathTemplate": "@body().invoices",
            "x-ms-apimTemplateParameter.newPropertySubPathTemplate": "title",
            "x-ms-apimTemplateParameter.propertyValuePathTemplate": (
                "'{@item()['id']}-{@item()['reference']}'"
            ),
            "x-ms-apimTemplate-policySection": "Response",
        },
    },
]
# certified-connectors/AzureAD
AZUREAD_MOVE = {
    "parameters": {
        "x-ms-apimTemplateParameter.srcParentPath": "@body()",
        "x-ms-apimTemplateParameter.srcSubPath": "customProperties",
        "x-ms-apimTemplateParameter.dstParentPath": "@body()",
        "x-ms-apimTemplateParameter.dstSubPath": "null",
        "x-ms-apimTemplateParameter.copyOnlySubProperties": "true",
        "x-ms-apimTemplate-policySection": "Request",
        "x-ms-apimTemplate-operationName": ["UpdateUser"],
    },
    "templateId": "moveproperties",
    "title": "Move Properties on User Update",
}
# certified-connectors/Planner
PLANNER_ENCODE = {
    "parameters": {
        "x-ms-apimTemplate-operationName": ["CreateTask_V3", "CreateTask_V4", "UnassignUsers", "AssignUsers"],
        "x-ms-apimTemplateParameter.propertyParentPath": "@body().assignments",
        "x-ms-apimTemplateParameter.propertySubPath": "userId",
        "x-ms-apimTemplateParameter.newPropertyPath": "@item().userId",
        "x-ms-apimTemplate-policySection": "Request",
    },
    "templateId": "EncodePropertyValue",
    "title": "Encode assignees",
}


def test_setproperty_splices_a_reference_into_text() -> None:
    api = api_for("/groups/{id}/members/$ref", "post", operation_id="AddUserToGroup")
    _, sent = call(
        [AZUREAD_ODATA_ID],
        api,
        "https://api.example.com/groups/g1/members/$ref",
        operation_id="AddUserToGroup",
        body={"@odata.id": "u-7"},
    )
    assert sent_json(sent) == {"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/u-7"}
    assert int(sent.request.headers["content-length"]) == len(sent.request.content)


def test_setproperty_wraps_objects_in_arrays() -> None:
    api = api_for("/batches/{id}/gifts", "post", operation_id="AddGiftToBatch")
    _, sent = call(
        BLACKBAUD,
        api,
        "https://api.example.com/batches/b1/gifts",
        operation_id="AddGiftToBatch",
        body={"gifts": {"amount": 5, "payments": {"method": "Cash"}}},
    )
    assert sent_json(sent) == {"gifts": [{"amount": 5, "payments": [{"method": "Cash"}]}]}


def test_setproperty_builds_json_around_an_array() -> None:
    api = api_for("/webhooks", "post", operation_id="webhookRegister")
    _, sent = call(
        [ONEFLOW_FILTERS],
        api,
        "https://api.example.com/webhooks",
        operation_id="webhookRegister",
        body={"callback_url": "https://cb", "filters": ["contract:publish"]},
    )
    assert sent_json(sent)["filters"] == [
        {"filter_rules": [{"type": "EVENT_TYPE", "values": ["contract:publish"]}]}
    ]


def test_setproperty_on_a_response_keeps_the_value_type_and_skips_missing_values() -> None:
    api = api_for("/rooms", operation_id="ListRooms")
    page = {"data": [1], "next": {"href": "/rooms?page=2"}}
    response, _ = call(
        [IOBEYA_NEXT],
        api,
        "https://api.example.com/rooms",
        operation_id="ListRooms",
        responder=lambda r: httpx.Response(200, json=page),
    )
    assert response.json()["nextLink"] == {"href": "/rooms?page=2"}
    response, _ = call(
        [IOBEYA_NEXT],
        api,
        "https://api.example.com/rooms",
        operation_id="ListRooms",
        responder=lambda r: httpx.Response(200, json={"data": []}),
    )
    assert response.json() == {"data": []}


def test_stringreplace_and_setproperty_shape_each_item() -> None:
    api = api_for("/invoices", operation_id="ListInvoices")
    invoices = {"invoices": [
        {"url": "https://api.freeagent.com/v2/invoices/11", "reference": "INV-1"},
        {"url": "https://api.freeagent.com/v2/invoices/12", "reference": "INV-2"},
    ]}  # fmt: skip
    response, _ = call(
        FREEAGENT,
        api,
        "https://api.example.com/invoices",
        operation_id="ListInvoices",
        responder=lambda r: httpx.Response(200, json=invoices),
    )
    assert [(i["id"], i["title"]) for i in response.json()["invoices"]] == [
        ("11", "11-INV-1"),
        ("12", "12-INV-2"),
    ]


def test_failure_responses_are_not_shaped_by_response_policies() -> None:
    api = api_for("/invoices", operation_id="ListInvoices")
    response, _ = call(
        FREEAGENT,
        api,
        "https://api.example.com/invoices",
        operation_id="ListInvoices",
        responder=lambda r: httpx.Response(404, json={"invoices": [{"url": "x"}]}),
    )
    assert response.status_code == 404
    assert response.json() == {"invoices": [{"url": "x"}]}


def test_moveproperties_merges_members_into_the_parent() -> None:
    api = api_for("/users/{id}", "patch", operation_id="UpdateUser")
    _, sent = call(
        [AZUREAD_MOVE],
        api,
        "https://api.example.com/users/u1",
        operation_id="UpdateUser",
        body={"displayName": "Ann", "customProperties": {"extension_abc_costCenter": "42"}},
    )
    assert sent_json(sent) == {"displayName": "Ann", "extension_abc_costCenter": "42"}


def test_encodepropertyvalue_encodes_each_item() -> None:
    api = api_for("/tasks", "post", operation_id="CreateTask_V4")
    _, sent = call(
        [PLANNER_ENCODE],
        api,
        "https://api.example.com/tasks",
        operation_id="CreateTask_V4",
        body={"assignments": [{"userId": "a/b c"}, {"userId": "plain"}]},
    )
    assert sent_json(sent)["assignments"] == [{"userId": "a%2Fb%20c"}, {"userId": "plain"}]


def test_a_body_that_is_not_json_is_left_alone() -> None:
    api = api_for("/users/{id}", "patch", operation_id="UpdateUser")
    request_body = b"<user/>"
    exchange = Exchange(
        api=api,
        operation=api.operation("UpdateUser"),
        connection=ConnectionContext(),
        request=httpx.Request("PATCH", "https://api.example.com/users/u1", content=request_body),
    )
    recorder = Recorder()
    asyncio.run(build_policy_stage(api, [AZUREAD_MOVE])(exchange, recorder))
    assert recorder.request.content == request_body
