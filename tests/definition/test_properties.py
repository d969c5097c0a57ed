"""apiProperties.json models: shapes, leniency, round trip, helpers, error pointers."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tether.definition._properties import ApiProperties, parse_api_properties
from tether.errors import InputError, ValidationFailed

OAUTH = {
    "properties": {
        "iconBrandColor": "#007ee5",
        "capabilities": ["actions"],
        "connectionParameters": {
            "token": {
                "type": "oauthSetting",
                "oAuthSettings": {
                    "identityProvider": "oauth2",
                    "clientId": "abc",
                    "clientSecret": "s3cret",
                    "scopes": ["read", "write"],
                    "redirectMode": "global",
                    "redirectUrl": "https://global.consent.azure-apim.net/redirect",
                    "properties": {"IsFirstParty": "False"},
                    "customParameters": {
                        "authorizationUrl": {"value": "https://login/authorize"},
                        "tenantId": {},
                    },
                },
            },
            "host": {
                "type": "string",
                "uiDefinition": {
                    "displayName": "Host",
                    "constraints": {"required": "true", "tabIndex": 2, "hidden": False, "clearText": True},
                },
            },
        },
        "policyTemplateInstances": [
            {
                "templateId": "dynamichosturl",
                "title": "host",
                "parameters": {
                    "x-ms-apimTemplateParameter.urlTemplate": "https://@connectionParameters('host')"
                },
            }
        ],
        "publisher": "Contoso",
        "stackOwner": "Contoso",
        "futureKey": {"kept": True},
    }
}

MULTI_AUTH = {
    "properties": {
        "iconBrandColor": "#fff",
        "connectionParameterSets": {
            "uiDefinition": {"displayName": "Authentication type"},
            "values": [
                {
                    "name": "key",
                    "uiDefinition": {"displayname": "API key"},
                    "parameters": {
                        "api_key": {
                            "type": "securestring",
                            "uiDefinition": {"constraints": {"required": True}},
                        }
                    },
                },
                {
                    "name": "oauth",
                    "parameters": {
                        "token": {
                            "type": "oAuthSetting",
                            "oauthSettings": {
                                "identityProvider": "aad",
                                "redirectMode": "GlobalPerConnector",
                            },
                        }
                    },
                },
            ],
        },
    }
}


def test_typed_access_and_helpers() -> None:
    props = parse_api_properties(OAUTH, name="p.json").properties
    token = props.connection_parameters["token"]
    assert token.kind == "oauthSetting" and not token.is_secret
    oauth = props.oauth_settings()
    assert oauth is token.o_auth_settings
    assert oauth.identity_provider == "oauth2" and oauth.scope_list == ["read", "write"]
    assert oauth.custom_parameter("authorizationUrl") == "https://login/authorize"
    assert oauth.custom_parameter("tenantId") is None
    host = props.connection_parameters["host"]
    assert host.is_required and host.ui_definition.title == "Host"
    assert host.ui_definition.constraints.tab_index == 2 and not host.ui_definition.constraints.is_hidden
    assert props.policy_template_instances[0].template_id == "dynamichosturl"
    assert props.model_extra == {"futureKey": {"kept": True}}


def test_secret_is_not_in_repr() -> None:
    props = parse_api_properties(OAUTH, name="p.json").properties
    assert "s3cret" not in repr(props)


@pytest.mark.parametrize("doc", [pytest.param(OAUTH, id="oauth"), pytest.param(MULTI_AUTH, id="multi-auth")])
def test_round_trip_gives_back_the_input(doc: dict[str, Any]) -> None:
    model = parse_api_properties(copy.deepcopy(doc), name="p.json")
    assert model.model_dump(by_alias=True, exclude_unset=True) == doc


@pytest.mark.parametrize(
    ("spelling", "normalised"),
    [
        pytest.param("global", "Global", id="lower-global"),
        pytest.param("Global", "Global", id="global"),
        pytest.param("globalperconnector", "GlobalPerConnector", id="lower-per-connector"),
        pytest.param("direct", "Direct", id="lower-direct"),
        pytest.param("Somewhere", "Somewhere", id="unknown-kept"),
    ],
)
def test_redirect_mode_is_normalised(spelling: str, normalised: str) -> None:
    doc = copy.deepcopy(OAUTH)
    doc["properties"]["connectionParameters"]["token"]["oAuthSettings"]["redirectMode"] = spelling
    model = parse_api_properties(doc, name="p.json")
    assert model.properties.oauth_settings().redirect_mode == normalised


def test_changed_redirect_mode_is_dumped_as_changed() -> None:
    model = parse_api_properties(copy.deepcopy(OAUTH), name="p.json")
    model.properties.oauth_settings().redirect_mode = "GlobalPerConnector"
    dumped = model.model_dump(by_alias=True, exclude_unset=True)
    assert (
        dumped["properties"]["connectionParameters"]["token"]["oAuthSettings"]["redirectMode"]
        == "GlobalPerConnector"
    )


def test_multi_auth_sets() -> None:
    props = parse_api_properties(MULTI_AUTH, name="p.json").properties
    assert props.parameter_set_names == ["key", "oauth"]
    key = props.connection_parameters_for("key")
    assert list(key) == ["api_key"] and key["api_key"].is_secret and key["api_key"].is_required
    assert props.oauth_settings("key") is None
    oauth = props.oauth_settings("oauth")  # spelled "oauthSettings" in this file
    assert (
        oauth is not None and oauth.identity_provider == "aad" and oauth.redirect_mode == "GlobalPerConnector"
    )
    assert props.oauth_settings() is not None
    values = props.connection_parameter_sets.values
    assert values[0].ui_definition.title == "API key"
    assert [(s, n) for s, n, _ in props.iter_connection_parameters()] == [
        ("key", "api_key"),
        ("oauth", "token"),
    ]


@pytest.mark.parametrize(
    ("set_name", "message"),
    [
        pytest.param(None, "choose one of: key, oauth", id="set-required"),
        pytest.param(
            "nope", "unknown connection parameter set 'nope'; choices: key, oauth", id="unknown-set"
        ),
    ],
)
def test_parameter_set_errors(set_name: str | None, message: str) -> None:
    props = parse_api_properties(MULTI_AUTH, name="p.json").properties
    with pytest.raises(InputError, match=message):
        props.connection_parameters_for(set_name)


def test_single_auth_parameters_for_none() -> None:
    props = parse_api_properties(OAUTH, name="p.json").properties
    assert list(props.connection_parameters_for(None)) == ["token", "host"]


def test_scopes_may_be_a_string() -> None:
    doc = {
        "properties": {
            "connectionParameters": {"t": {"type": "oauthSetting", "oAuthSettings": {"scopes": "a b"}}}
        }
    }
    assert parse_api_properties(doc, name="p.json").properties.oauth_settings().scope_list == ["a", "b"]


def test_every_bad_field_is_listed_with_its_pointer() -> None:
    doc = {
        "properties": {
            "iconBrandColor": 7,
            "capabilities": "actions",
            "connectionParameters": {
                "a/b": {"type": 1, "uiDefinition": {"constraints": {"required": 1, "tabIndex": 1.5}}},
            },
        }
    }
    with pytest.raises(ValidationFailed) as info:
        parse_api_properties(doc, name="apiProperties.json")
    error = info.value
    pointers = [issue["pointer"] for issue in error.issues]
    assert pointers == [
        "/properties/iconBrandColor",
        "/properties/capabilities",
        "/properties/connectionParameters/a~1b/type",
        "/properties/connectionParameters/a~1b/uiDefinition/constraints/required",
        "/properties/connectionParameters/a~1b/uiDefinition/constraints/tabIndex",
    ]
    assert error.message.startswith("apiProperties.json: apiProperties has 5 problems:")
    assert "Input should be a valid string or Input should be a valid boolean" in error.message
    assert all(issue["document"] == "apiProperties.json" for issue in error.issues)


@pytest.mark.parametrize(
    ("data", "pointer"),
    [
        pytest.param({}, "/properties", id="missing-properties"),
        pytest.param([], "", id="not-an-object"),
    ],
)
def test_structural_errors(data: Any, pointer: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_api_properties(data, name="p.json")
    assert info.value.issues[0]["pointer"] == pointer


def test_python_names_are_accepted_too() -> None:
    model = ApiProperties.model_validate({"properties": {"icon_brand_color": "#000"}})
    assert model.properties.icon_brand_color == "#000"
