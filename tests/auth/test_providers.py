"""Provider presets and the registry: URLs, quirks and token parsing, with a mock token endpoint."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tether.auth import OAuthError, OAuthProvider, generate_code_verifier, provider_for
from tether.definition import OAuthSettings
from tether.errors import InputError


def settings(provider: str, **extra: Any) -> OAuthSettings:
    return OAuthSettings.model_validate(
        {"identityProvider": provider, "clientId": "cid", "clientSecret": "csecret", **extra}
    )


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def auth_url(provider: OAuthProvider, verifier: str | None = "v" * 50) -> str:
    return provider.authorization_url(
        redirect_uri="https://t.example/redirect/c1", state="st", code_verifier=verifier
    )


class TokenEndpoint:
    """A handler for httpx.MockTransport recording token requests and answering ``answer``."""

    def __init__(self, answer: dict[str, Any], status: int = 200) -> None:
        self.answer, self.status, self.requests = answer, status, []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.status, json=self.answer)

    @property
    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.requests[-1].content.decode()).items()}


def exchange(provider_name: str, answer: dict[str, Any], status: int = 200, **extra: Any):
    endpoint = TokenEndpoint(answer, status)

    async def go():
        async with httpx.AsyncClient(transport=httpx.MockTransport(endpoint)) as client:
            provider = provider_for(settings(provider_name, **extra), http_client=client)
            return await provider.exchange_code(
                "the-code", redirect_uri="https://t/r", code_verifier="v" * 50
            )

    return asyncio.run(go()), endpoint


@pytest.mark.parametrize(
    ("name", "authorize", "token", "params"),
    [
        pytest.param(
            "github",
            "https://github.com/login/oauth/authorize",
            "https://github.com/login/oauth/access_token",
            {},
            id="github",
        ),
        pytest.param(
            "GitHub",
            "https://github.com/login/oauth/authorize",
            "https://github.com/login/oauth/access_token",
            {},
            id="case-insensitive",
        ),
        pytest.param(
            "dropbox",
            "https://www.dropbox.com/oauth2/authorize",
            "https://api.dropboxapi.com/oauth2/token",
            {"token_access_type": "offline"},
            id="dropbox",
        ),
        pytest.param(
            "google",
            "https://accounts.google.com/o/oauth2/v2/auth",
            "https://oauth2.googleapis.com/token",
            {"access_type": "offline", "prompt": "consent"},
            id="google",
        ),
        pytest.param(
            "salesforce",
            "https://login.salesforce.com/services/oauth2/authorize",
            "https://login.salesforce.com/services/oauth2/token",
            {},
            id="salesforce",
        ),
        pytest.param(
            "slack",
            "https://slack.com/oauth/v2/authorize",
            "https://slack.com/api/oauth.v2.access",
            {},
            id="slack",
        ),
    ],
)
def test_preset_endpoints(name: str, authorize: str, token: str, params: dict[str, str]) -> None:
    provider = provider_for(settings(name, scopes=["a", "b"]))
    url = auth_url(provider)
    assert url.split("?")[0] == authorize and provider.endpoints.token_url == token
    q = query(url)
    assert q["client_id"] == "cid" and q["state"] == "st" and q["response_type"] == "code"
    assert q["redirect_uri"] == "https://t.example/redirect/c1"
    assert params.items() <= q.items()
    assert "csecret" not in url


def test_pkce_is_sent_except_where_the_provider_refuses_it() -> None:
    assert query(auth_url(provider_for(settings("google"))))["code_challenge_method"] == "S256"
    assert "code_challenge" not in query(auth_url(provider_for(settings("slack"))))


def test_slack_sends_user_scopes_comma_separated_and_reads_authed_user() -> None:
    assert (
        query(auth_url(provider_for(settings("slack", scopes=["chat:write", "users:read"]))))["user_scope"]
        == "chat:write,users:read"
    )
    answer = {
        "ok": True,
        "app_id": "A1",
        "team": {"id": "T9", "name": "Acme"},
        "authed_user": {
            "id": "U1",
            "scope": "chat:write",
            "access_token": "xoxp-user",
            "token_type": "user",
            "refresh_token": "xoxe-1",
            "expires_in": 43200,
        },
    }
    tokens, endpoint = exchange("slack", answer)
    assert tokens.access_token == "xoxp-user" and tokens.refresh_token == "xoxe-1"
    assert tokens.token_type == "Bearer" and tokens.expires_at is not None
    assert tokens.extra["team_id"] == "T9" and tokens.extra["user_id"] == "U1"
    assert "code_verifier" not in endpoint.form


def test_slack_error_with_http_200_is_an_oauth_error() -> None:
    with pytest.raises(OAuthError) as info:
        exchange("slack", {"ok": False, "error": "invalid_code"})
    assert info.value.error == "invalid_code" and "slack" in info.value.message


def test_github_asks_for_json_and_keeps_no_expiry() -> None:
    tokens, endpoint = exchange("github", {"access_token": "gho_x", "token_type": "bearer", "scope": "repo"})
    assert endpoint.requests[0].headers["Accept"] == "application/json"
    assert tokens.expires_at is None and not tokens.expires_soon() and tokens.refresh_token is None
    assert endpoint.form["code_verifier"] == "v" * 50 and endpoint.form["client_secret"] == "csecret"


def test_github_error_answered_with_200() -> None:
    answer = {
        "error": "bad_verification_code",
        "error_description": "The code passed is incorrect or expired.",
    }
    with pytest.raises(OAuthError, match="The code passed is incorrect or expired"):
        exchange("github", answer)


def test_salesforce_keeps_instance_url() -> None:
    answer = {
        "access_token": "00D!x",
        "refresh_token": "5Aep",
        "instance_url": "https://acme.my.salesforce.com",
        "id": "https://login.salesforce.com/id/00D/005",
        "token_type": "Bearer",
        "issued_at": "1700000000000",
        "id_token": "eyJ.a.b",
    }
    tokens, _ = exchange("salesforce", answer)
    assert tokens.extra["instance_url"] == "https://acme.my.salesforce.com"
    assert "id_token" not in tokens.extra and tokens.expires_at is None


def test_salesforce_sandbox_login() -> None:
    custom = {"loginUri": {"value": "https://test.salesforce.com"}}
    provider = provider_for(settings("salesforce", customParameters=custom))
    assert provider.endpoints.token_url == "https://test.salesforce.com/services/oauth2/token"


def test_dropbox_refresh_keeps_the_refresh_token_it_does_not_rotate() -> None:
    endpoint = TokenEndpoint({"access_token": "sl.new", "token_type": "bearer", "expires_in": 14400})

    async def go():
        async with httpx.AsyncClient(transport=httpx.MockTransport(endpoint)) as client:
            return await provider_for(settings("dropbox"), http_client=client).refresh("rt-1")

    tokens = asyncio.run(go())
    assert tokens.refresh_token == "rt-1" and endpoint.form["grant_type"] == "refresh_token"


@pytest.mark.parametrize(
    ("custom", "scopes", "authorize", "expected"),
    [
        pytest.param(
            {"resourceUri": {"value": "https://graph.microsoft.com"}},
            [],
            "https://login.microsoftonline.com/common/oauth2/authorize",
            {"resource": "https://graph.microsoft.com"},
            id="v1-defaults",
        ),
        pytest.param(
            {
                "loginUri": {"value": "https://login.windows.net"},
                "tenantId": {"value": "contoso"},
                "resourceUri": {"value": "https://graph.microsoft.com"},
            },
            ["Group.ReadWrite.All offline_access"],
            "https://login.windows.net/contoso/oauth2/v2.0/authorize",
            {"scope": "https://graph.microsoft.com/Group.ReadWrite.All offline_access"},
            id="v2-corpus",
        ),
        pytest.param(
            {},
            ["openid", "api://app/.default"],
            "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
            {"scope": "openid api://app/.default offline_access"},
            id="v2-no-resource",
        ),
    ],
)
def test_aad_endpoints(custom: dict, scopes: list[str], authorize: str, expected: dict[str, str]) -> None:
    provider = provider_for(settings("aad", customParameters=custom, scopes=scopes))
    url = auth_url(provider)
    assert url.split("?")[0] == authorize
    assert expected.items() <= query(url).items()
    assert query(url)["code_challenge_method"] == "S256"


def test_aad_tenant_from_connection_parameter_and_v1_resource_in_token_request() -> None:
    endpoint = TokenEndpoint({"access_token": "a", "expires_in": "3599", "token_type": "Bearer"})
    custom = {"resourceUri": {"value": "https://api.example"}, "tenantId": {"value": "common"}}

    async def go():
        async with httpx.AsyncClient(transport=httpx.MockTransport(endpoint)) as client:
            provider = provider_for(
                settings("aad", customParameters=custom), {"token:TenantId": "fabrikam"}, http_client=client
            )
            return await provider.client_credentials()

    tokens = asyncio.run(go())
    assert str(endpoint.requests[0].url) == "https://login.microsoftonline.com/fabrikam/oauth2/token"
    assert endpoint.form["resource"] == "https://api.example" and tokens.expires_at is not None


def test_aadcertificate_signs_a_client_assertion() -> None:
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID
    from joserfc import jwt
    from joserfc.jwk import RSAKey

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tether-test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ) + cert.public_bytes(serialization.Encoding.PEM)
    endpoint = TokenEndpoint({"access_token": "a", "token_type": "Bearer", "expires_in": 3600})
    custom = {"resourceUri": {"value": "https://graph.microsoft.com"}, "tenantId": {"value": "contoso"}}

    async def go():
        async with httpx.AsyncClient(transport=httpx.MockTransport(endpoint)) as client:
            oauth = OAuthSettings.model_validate(
                {"identityProvider": "aadcertificate", "clientId": "app-1", "customParameters": custom}
            )
            provider = provider_for(oauth, {"clientCertificate": pem.decode()}, http_client=client)
            assert pem.decode() not in repr(provider)
            return await provider.client_credentials()

    asyncio.run(go())
    form = endpoint.form
    assert form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    assert "client_secret" not in form
    public = RSAKey.import_key(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    token = jwt.decode(form["client_assertion"], public)
    assert token.claims["iss"] == token.claims["sub"] == "app-1"
    assert token.claims["aud"] == "https://login.microsoftonline.com/contoso/oauth2/token"
    assert token.header["x5t"] and token.header["alg"] == "RS256"


def test_aadcertificate_without_certificate_is_an_input_error() -> None:
    with pytest.raises(InputError, match="clientCertificate"):
        provider_for(OAuthSettings.model_validate({"identityProvider": "aadcertificate", "clientId": "x"}))


def test_unknown_provider_with_urls_is_generic_oauth2() -> None:
    custom = {
        "AuthorizationUrl": {"value": "https://idp.example/auth"},
        "TokenUrl": {"value": "https://idp.example/token"},
    }
    provider = provider_for(settings("DocuSign", customParameters=custom))
    assert provider.endpoints.token_url == "https://idp.example/token"
    assert auth_url(provider).startswith("https://idp.example/auth?")


def test_unknown_provider_without_urls_is_named() -> None:
    with pytest.raises(InputError, match="'facebook' is not supported") as info:
        provider_for(settings("facebook"))
    assert "github" in info.value.detail["choices"]


def test_oauth2_connection_parameters_override_urls_and_client() -> None:
    custom = {
        "authorizationUrl": {"value": "https://YourInstance.service-now.com/oauth_auth.do"},
        "tokenUrl": {"value": "https://YourInstance.service-now.com/oauth_token.do"},
    }
    parameters = {"token:clientId": "mine", "tokenUrl": "https://acme.service-now.com/oauth_token.do"}
    provider = provider_for(settings("oauth2", customParameters=custom), parameters)
    assert provider.client_id == "mine"
    assert provider.endpoints.token_url == "https://acme.service-now.com/oauth_token.do"
    assert provider.endpoints.refresh == provider.endpoints.token_url


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        pytest.param(502, "<html>bad gateway</html>", "http_error", id="html-502"),
        pytest.param(200, "not json", "invalid_response", id="not-json"),
        pytest.param(200, json.dumps({"token_type": "Bearer"}), "invalid_response", id="no-access-token"),
        pytest.param(
            400,
            json.dumps({"error": "invalid_grant", "error_description": "expired"}),
            "invalid_grant",
            id="rfc-error",
        ),
    ],
)
def test_token_endpoint_failures_become_oauth_errors(status: int, body: str, error: str) -> None:
    async def go():
        transport = httpx.MockTransport(lambda request: httpx.Response(status, text=body))
        async with httpx.AsyncClient(transport=transport) as client:
            return await provider_for(settings("google"), http_client=client).refresh("rt-secret")

    with pytest.raises(OAuthError) as info:
        asyncio.run(go())
    assert info.value.error == error and "rt-secret" not in info.value.message
    assert "csecret" not in info.value.message


def test_provider_repr_masks_the_secret() -> None:
    assert "csecret" not in repr(provider_for(settings("google")))


def test_verifier_only_sent_with_pkce() -> None:
    verifier = generate_code_verifier()
    assert 43 <= len(verifier) <= 128
    assert verifier != generate_code_verifier()
