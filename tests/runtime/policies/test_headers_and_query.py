"""setheader and setqueryparameter, with instances copied from corpus connectors."""

from __future__ import annotations

import httpx
import pytest

from tests.runtime.policies._support import api_for, call

# certified-connectors/Calendly
CALENDLY_AUTH = {
    "templateId": "setheader",
    "title": "Set Authentication Header",
    "parameters": {
        "x-ms-apimTemplateParameter.name": "Authorization",
        "x-ms-apimTemplateParameter.value": "Bearer @connectionParameters('api_key')",
        "x-ms-apimTemplateParameter.existsAction": "override",
        "x-ms-apimTemplate-policySection": "Request",
    },
}
# certified-connectors/OutlookTasks (the name is URL-encoded in the connector)
OUTLOOK_TOP = {
    "templateId": "setqueryparameter",
    "title": "Default value for $top",
    "parameters": {
        "x-ms-apimTemplate-operationName": ["GetAllTaskFolders_V2", "GetAllTasks_V2"],
        "x-ms-apimTemplateParameter.name": "%24top",
        "x-ms-apimTemplateParameter.value": "50",
        "x-ms-apimTemplateParameter.existsAction": "skip",
    },
}
# certified-connectors/Tikit
TIKIT_FILTER = {
    "templateId": "setqueryparameter",
    "title": "Filter Status by Archived equals false",
    "parameters": {
        "x-ms-apimTemplateParameter.name": "$filter",
        "x-ms-apimTemplateParameter.value": "IsArchived eq false",
        "x-ms-apimTemplateParameter.existsAction": "append",
        "x-ms-apimTemplate-operationName": ["StatusList_Get"],
    },
}
# certified-connectors/Zoho Mail: the value quotes the caller's own query parameter
ZOHO_CRITERIAS = {
    "templateId": "setqueryparameter",
    "title": "SetFromMailParameter",
    "parameters": {
        "x-ms-apimTemplateParameter.name": "criterias",
        "x-ms-apimTemplateParameter.value": (
            '[{"lhs":"sender","operator":"contains","rhs":"@queryParameters(\'criterias\')"}]'
        ),
        "x-ms-apimTemplateParameter.existsAction": "override",
        "x-ms-apimTemplate-operationName": ["New_Mail_Trigger"],
    },
}


def test_setheader_overrides_with_a_connection_parameter() -> None:
    api = api_for("/users/me")
    _, sent = call(
        [CALENDLY_AUTH],
        api,
        "https://api.example.com/users/me",
        headers={"Authorization": "old"},
        connection={"api_key": "k-123"},
    )
    assert sent.request.headers.get_list("authorization") == ["Bearer k-123"]


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        pytest.param("override", ["new"], id="override"),
        pytest.param("skip", ["old"], id="skip"),
        pytest.param("append", ["old", "new"], id="append"),
    ],
)
def test_setheader_exists_actions(action: str, expected: list[str]) -> None:
    instance = {
        "templateId": "setHeader",  # the corpus also spells it so (Facebook)
        "parameters": {
            "x-ms-apimTemplateParameter.name": "X-Thing",
            "x-ms-apimTemplateParameter.value": "new",
            "x-ms-apimTemplateParameter.existsAction": action,
            "x-ms-apimTemplate-policySection": "Request",
        },
    }
    _, sent = call([instance], api_for("/a"), "https://api.example.com/a", headers={"X-Thing": "old"})
    assert sent.request.headers.get_list("x-thing") == expected


def test_setheader_on_the_response_section() -> None:
    instance = {
        "templateId": "setheader",
        "parameters": {
            "x-ms-apimTemplateParameter.name": "Content-Type",
            "x-ms-apimTemplateParameter.value": "application/json",
            "x-ms-apimTemplate-policySection": "Response",
        },
    }
    response, _ = call(
        [instance],
        api_for("/a"),
        "https://api.example.com/a",
        responder=lambda r: httpx.Response(200, content=b'{"a":1}', headers={"content-type": "text/plain"}),
    )
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"a": 1}


def test_setqueryparameter_skip_sets_a_default_only() -> None:
    api = api_for("/me/tasks", operation_id="GetAllTasks_V2")
    _, sent = call([OUTLOOK_TOP], api, "https://api.example.com/me/tasks", operation_id="GetAllTasks_V2")
    assert sent.request.url.params["$top"] == "50"
    _, sent = call(
        [OUTLOOK_TOP], api, "https://api.example.com/me/tasks?%24top=5", operation_id="GetAllTasks_V2"
    )
    assert sent.request.url.params.get_list("$top") == ["5"]


def test_setqueryparameter_is_scoped_to_its_operations() -> None:
    api = api_for("/other", operation_id="Other")
    _, sent = call([OUTLOOK_TOP], api, "https://api.example.com/other", operation_id="Other")
    assert "$top" not in sent.request.url.params


def test_setqueryparameter_append_keeps_the_callers_value() -> None:
    api = api_for("/statuses", operation_id="StatusList_Get")
    _, sent = call(
        [TIKIT_FILTER],
        api,
        "https://api.example.com/statuses?$filter=Name eq 'x'",
        operation_id="StatusList_Get",
    )
    assert sent.request.url.params.get_list("$filter") == ["Name eq 'x'", "IsArchived eq false"]


def test_setqueryparameter_value_reads_the_query() -> None:
    api = api_for("/messages", operation_id="New_Mail_Trigger")
    _, sent = call(
        [ZOHO_CRITERIAS],
        api,
        "https://api.example.com/messages?criterias=bob%40example.com",
        operation_id="New_Mail_Trigger",
    )
    assert sent.request.url.params.get_list("criterias") == [
        '[{"lhs":"sender","operator":"contains","rhs":"bob@example.com"}]'
    ]
