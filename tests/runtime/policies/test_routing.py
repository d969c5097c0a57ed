"""dynamichosturl, dynamicsubdomain and routerequesttoendpoint, with corpus instances."""

from __future__ import annotations

import pytest

from tests.runtime.policies._support import api_for, call
from tether.runtime.policies import PolicyError

# certified-connectors/JIRA (host yourhost.yourdomain.com, basePath /rest/api)
JIRA_HOST = {
    "templateId": "dynamichosturl",
    "title": "Set JIRA Address",
    "parameters": {
        "x-ms-apimTemplateParameter.urlTemplate": "https://@connectionParameters('jirainstance').atlassian.net/rest/api/"
    },
}
# certified-connectors/AlisQI (host alisqi.com, basePath /api/)
ALISQI_SUBDOMAIN = {
    "templateId": "dynamicsubdomain",
    "title": "Set dynamic subdomain in host URL",
    "parameters": {
        "x-ms-apimTemplateParameter.urlTemplate": "https://@connectionParameters('subdomain').alisqi.com/api/"
    },
}
# certified-connectors/OpenLegacy IBM I: a default for a missing connection parameter
OPENLEGACY_HOST = {
    "templateId": "dynamichosturl",
    "title": "Hub URL",
    "parameters": {
        "x-ms-apimTemplateParameter.urlTemplate": "@connectionParameters('hub_url','https://api.ol-hub.com')"
    },
}
# certified-connectors/HYAS Insight
HYAS_ROUTE = {
    "templateId": "routerequesttoendpoint",
    "title": "Whois Policy",
    "parameters": {
        "x-ms-apimTemplateParameter.newPath": (
            "/whois/search?@queryParameters('indicator_type')=@queryParameters('indicator_value')"
        ),
        "x-ms-apimTemplateParameter.httpMethod": "@Request.OriginalHTTPMethod",
        "x-ms-apimTemplate-operationName": ["Whois"],
    },
}
# independent-publisher-connectors/Annature
ANNATURE_DELETE = {
    "templateId": "routerequesttoendpoint",
    "title": "SetEmptyBodyFoDelete",
    "parameters": {
        "x-ms-apimTemplateParameter.newPath": "/envelopes/{id}",
        "x-ms-apimTemplateParameter.httpMethod": "DELETE",
        "x-ms-apimTemplate-operationName": ["DeleteEnvelope"],
    },
}
# certified-connectors/Tribal
TRIBAL_ROUTE = {
    "templateId": "routerequesttoendpoint",
    "title": "ReadDeleteUpdateEntity Tenant Redirect",
    "parameters": {
        "x-ms-apimTemplateParameter.newPath": (
            "/{service}/@connectionParameters('token:tenantId')/api/{entityType}/{id}"
        ),
        "x-ms-apimTemplateParameter.httpMethod": "@Request.OriginalHTTPMethod",
        "x-ms-apimTemplate-operationName": ["ReadEntity", "DeleteEntity", "UpdateEntity"],
    },
}


def test_dynamichosturl_replaces_scheme_host_and_base_path() -> None:
    api = api_for("/project/search", host="yourhost.yourdomain.com", base_path="/rest/api")
    _, sent = call(
        [JIRA_HOST],
        api,
        "https://yourhost.yourdomain.com/rest/api/project/search?startAt=5",
        connection={"jirainstance": "contoso"},
    )
    assert str(sent.request.url) == "https://contoso.atlassian.net/rest/api/project/search?startAt=5"


def test_dynamicsubdomain_behaves_as_dynamichosturl() -> None:
    api = api_for("/v1/records", host="alisqi.com", base_path="/api/")
    _, sent = call(
        [ALISQI_SUBDOMAIN], api, "https://alisqi.com/api/v1/records", connection={"subdomain": "acme"}
    )
    assert str(sent.request.url) == "https://acme.alisqi.com/api/v1/records"


@pytest.mark.parametrize(
    ("connection", "expected"),
    [
        pytest.param({}, "https://api.ol-hub.com/x", id="default"),
        pytest.param({"hub_url": "https://hub.local"}, "https://hub.local/x", id="given"),
    ],
)
def test_dynamichosturl_uses_the_default_of_a_missing_parameter(connection: dict, expected: str) -> None:
    _, sent = call([OPENLEGACY_HOST], api_for("/x"), "https://api.example.com/x", connection=connection)
    assert str(sent.request.url) == expected


def test_a_missing_connection_parameter_is_a_clear_error() -> None:
    with pytest.raises(PolicyError, match="jirainstance"):
        call([JIRA_HOST], api_for("/a"), "https://api.example.com/a")


def test_routerequesttoendpoint_moves_query_values_into_the_path_query() -> None:
    api = api_for("/whois", operation_id="Whois", host="api.hyas.com")
    _, sent = call(
        [HYAS_ROUTE],
        api,
        "https://api.hyas.com/whois?indicator_type=domain&indicator_value=a.example",
        operation_id="Whois",
        method="POST",
    )
    assert sent.request.method == "POST"
    assert sent.request.url.path == "/whois/search"
    assert sent.request.url.params["domain"] == "a.example"


def test_routerequesttoendpoint_changes_method_and_fills_path_parameters() -> None:
    api = api_for("/envelopes/{id}/void", "post", operation_id="DeleteEnvelope")
    _, sent = call(
        [ANNATURE_DELETE], api, "https://api.example.com/envelopes/e%2F1/void", operation_id="DeleteEnvelope"
    )
    assert sent.request.method == "DELETE"
    assert sent.request.url.raw_path == b"/envelopes/e%2F1"


def test_routerequesttoendpoint_with_connection_parameters_and_base_path() -> None:
    api = api_for("/{service}/{entityType}/{id}", operation_id="ReadEntity", base_path="/v1")
    _, sent = call(
        [TRIBAL_ROUTE],
        api,
        "https://api.example.com/v1/crm/person/42",
        operation_id="ReadEntity",
        connection={"token:tenantId": "t 1"},
    )
    assert sent.request.url.raw_path == b"/v1/crm/t%201/api/person/42"
