"""oauth2generic templates, using the corpus connectors' own settings."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests._paths import CORPUS, need
from tether.auth import provider_for
from tether.definition import parse_api_properties
from tether.errors import InputError

REDIRECT = "https://tether.example/redirect/c1"


def corpus_settings(folder: str):
    path = need(CORPUS / folder / "apiProperties.json")
    props = parse_api_properties(json.loads(Path(path).read_text(encoding="utf-8-sig")), name=str(path))
    settings = props.properties.oauth_settings()
    assert settings is not None
    return settings


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_zoho_templates_with_a_region_parameter() -> None:
    settings = corpus_settings("certified-connectors/Zoho Mail")
    provider = provider_for(settings, {"token:customHost": ".eu"})
    url = provider.authorization_url(redirect_uri=REDIRECT, state="st", code_verifier="v" * 50)
    assert url.startswith("https://accounts.zoho.eu/oauth/v2/auth?response_type=code&client_id=")
    q = query(url)
    assert q["redirect_uri"] == REDIRECT and q["state"] == "st" and q["access_type"] == "offline"
    assert q["scope"].split(" ")[0] == "VirtualOffice.accounts.READ"
    assert q["code_challenge_method"] == "S256"
    assert provider.endpoints.token_url == "https://accounts.zoho.eu/oauth/v2/token"


def test_zoho_token_body_template_is_posted() -> None:
    settings = corpus_settings("certified-connectors/Zoho Mail").model_copy(
        update={"client_secret": "zs&cret"}
    )
    seen: list[httpx.Request] = []

    def endpoint(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"access_token": "za", "refresh_token": "zr", "expires_in": 3600})

    async def go():
        async with httpx.AsyncClient(transport=httpx.MockTransport(endpoint)) as client:
            provider = provider_for(settings, {"token:customHost": ".com"}, http_client=client)
            first = await provider.exchange_code("c/1", redirect_uri=REDIRECT, code_verifier="v" * 50)
            second = await provider.refresh(first.refresh_token or "")
            return first, second

    first, second = asyncio.run(go())
    form = {k: v[0] for k, v in parse_qs(seen[0].content.decode()).items()}
    assert str(seen[0].url) == "https://accounts.zoho.com/oauth/v2/token"
    assert form["code"] == "c/1" and form["grant_type"] == "authorization_code"
    assert form["client_secret"] == "zs&cret" and form["redirect_uri"] == REDIRECT
    assert form["code_verifier"] == "v" * 50
    assert "Authorization" not in seen[0].headers  # the template carries the client credentials
    refresh = {k: v[0] for k, v in parse_qs(seen[1].content.decode()).items()}
    assert refresh == {
        "grant_type": "refresh_token",
        "refresh_token": "zr",
        "client_id": settings.client_id,
        "client_secret": "zs&cret",
    }
    assert first.access_token == "za" and second.refresh_token == "zr"


def test_netdocuments_region_alternatives() -> None:
    settings = corpus_settings("certified-connectors/NetDocuments")
    provider = provider_for(settings, {"token:apiRegion": "EU"})
    url = provider.authorization_url(redirect_uri=REDIRECT, state="st", code_verifier=None)
    assert url.startswith(
        "https://eu.netdocuments.com/neWeb2/OAuth.aspx?smallDisplay=Y&client_id=AP-XXXXXXXX&"
    )
    assert provider.endpoints.token_url == "https://api.eu.netdocuments.com/v1/OAuth"


def test_tribal_url_templates_without_query_templates_use_standard_parameters() -> None:
    settings = corpus_settings("certified-connectors/Tribal")
    parameters = {"token:environment": ".tribaledge.com", "token:region": "eu", "token:tenantId": "t42"}
    provider = provider_for(settings, parameters)
    url = provider.authorization_url(redirect_uri=REDIRECT, state="st", code_verifier="v" * 50)
    assert url.startswith("https://identity.tribaledge.com/eu/ids/t42/connect/authorize?")
    assert query(url)["state"] == "st" and query(url)["client_id"] == settings.client_id


def test_surveymonkey_title_case_keys_and_null_refresh() -> None:
    settings = corpus_settings("certified-connectors/SurveyMonkey")
    provider = provider_for(settings)
    url = provider.authorization_url(redirect_uri=REDIRECT, state="st", code_verifier=None)
    assert url.startswith("https://api.surveymonkey.net/oauth/authorize?client_id=")
    assert provider.endpoints.refresh == "https://api.surveymonkey.net/oauth/token"


def test_cognite_scopes_are_templates_too() -> None:
    settings = corpus_settings("certified-connectors/Cognite Data Fusion")
    parameters = {
        "token:AuthorizationUrl": "https://login.example/authorize",
        "token:TokenUrl": "https://login.example/token",
        "token:RefreshUrl": "https://login.example/token",
        "token:Scope": "https://cdf/.default",
        "token:ClientId": "byo-app",
        "token:ClientSecret": "byo-secret",
    }
    provider = provider_for(settings, parameters)
    url = provider.authorization_url(redirect_uri=REDIRECT, state="st", code_verifier=None)
    assert query(url)["scope"] == "https://cdf/.default" and query(url)["client_id"] == "byo-app"
    assert provider.scopes == ("https://cdf/.default",)


def test_template_state_is_added_when_missing() -> None:
    from tether.definition import OAuthSettings

    settings = OAuthSettings.model_validate(
        {
            "identityProvider": "oauth2generic",
            "clientId": "c",
            "customParameters": {
                "authorizationUrlTemplate": {"value": "https://x/auth"},
                "authorizationUrlQueryStringTemplate": {"value": "?client_id={ClientId}"},
                "tokenUrlTemplate": {"value": "https://x/token"},
            },
        }
    )
    url = provider_for(settings).authorization_url(redirect_uri=REDIRECT, state="st", code_verifier=None)
    assert query(url) == {"client_id": "c", "state": "st"}


def test_unknown_placeholder_is_named() -> None:
    settings = corpus_settings("certified-connectors/Zoho Mail")
    with pytest.raises(InputError, match=r"\{CustomHost\}"):
        provider_for(settings, {})
