"""The connection form's controls and the values a posted form gives the services."""

from __future__ import annotations

import json

import pytest

from tests._paths import CORPUS, need
from tether.definition import parse_api_properties
from tether.errors import ValidationFailed
from tether.portal._connection_fields import field_controls, input_name, submitted_values
from tether.services import build_connection_form, check_values

PROPERTIES = {
    "properties": {
        "connectionParameters": {
            "api_key": {
                "type": "securestring",
                "uiDefinition": {
                    "displayName": "API key",
                    "constraints": {"required": "true", "tabIndex": 1},
                },
            },
            "region": {
                "type": "string",
                "uiDefinition": {
                    "displayName": "Region",
                    "constraints": {
                        "tabIndex": 2,
                        "allowedValues": [{"text": "Europe", "value": "eu"}, {"text": "US", "value": "us"}],
                    },
                },
            },
            "pages": {
                "type": "int",
                "uiDefinition": {"displayName": "Pages", "constraints": {"tabIndex": 3}},
            },
            "verbose": {
                "type": "bool",
                "uiDefinition": {"displayName": "Verbose", "constraints": {"tabIndex": 4}},
            },
            "tenant": {
                "type": "string",
                "uiDefinition": {"displayName": "Tenant", "constraints": {"tabIndex": 5, "required": "true"}},
            },
            "internal": {"type": "string", "uiDefinition": {"constraints": {"hidden": "true"}}},
        }
    }
}


def test_each_parameter_type_gets_its_control() -> None:
    (form,) = build_connection_form(parse_api_properties(PROPERTIES, name="p"))
    controls = {c.field.name: c for c in field_controls(form)}
    assert list(controls) == ["api_key", "region", "pages", "verbose", "tenant"]  # hidden left out
    assert (controls["api_key"].element, controls["api_key"].input_type) == ("input", "password")
    assert controls["api_key"].required and controls["api_key"].name == "param::api_key"
    assert controls["region"].element == "select"
    assert controls["region"].choices == (("", "(choose)"), ("eu", "Europe"), ("us", "US"))
    assert controls["pages"].input_type == "number"
    assert controls["verbose"].element == "select" and controls["verbose"].choices[1] == ("true", "Yes")
    assert not any(c.required for c in field_controls(form, editing=True))  # blank keeps the stored value


def test_posted_values_go_through_the_services_checks() -> None:
    (form,) = build_connection_form(parse_api_properties(PROPERTIES, name="p"))
    posted = {
        input_name(form, form.field("api_key")): "s3cret",  # type: ignore[arg-type]
        "param::region": "eu",
        "param::pages": "3",
        "param::verbose": "true",
        "param::tenant": "",
        "csrf": "ignored",
    }
    values = submitted_values(form, posted)
    assert values == {"api_key": "s3cret", "region": "eu", "pages": "3", "verbose": "true"}
    with pytest.raises(ValidationFailed) as caught:
        check_values(form, values)
    assert [issue["field"] for issue in caught.value.detail["issues"]] == ["tenant"]
    assert "s3cret" not in str(caught.value)
    assert check_values(form, {**values, "tenant": "t1"}) == {
        "api_key": "s3cret",
        "region": "eu",
        "pages": 3,
        "verbose": True,
        "tenant": "t1",
    }


def test_a_multi_auth_connector_posts_only_the_chosen_sets_fields() -> None:
    need(CORPUS)
    raw = json.loads((CORPUS / "certified-connectors" / "LawVu" / "apiProperties.json").read_text())
    forms = build_connection_form(parse_api_properties(raw, name="LawVu"))
    assert len(forms) > 1
    first, second = forms[0], forms[1]
    posted = {c.name: c.choices[1][0] for f in (first, second) for c in field_controls(f) if c.choices}
    assert submitted_values(second, posted) == {"token:customHost": second.fields[0].allowed_values[0][1]}
    assert all(c.name.startswith(f"param:{first.name}:") for c in field_controls(first))
