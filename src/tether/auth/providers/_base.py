"""The OAuth 2.0 client every provider is: authorization URL, code exchange, refresh, client credentials.

The protocol work is authlib's (``AsyncOAuth2Client`` for token requests, ``prepare_grant_uri`` and
``create_s256_code_challenge`` for the authorization URL); a provider only says *where* and *which
quirks*. Errors leave as :class:`OAuthError` with the provider's own words and no secrets.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Final

import httpx
from authlib.integrations.base_client import OAuthError as AuthlibOAuthError

with warnings.catch_warnings():
    # authlib 1.9 nudges towards the httpx2 fork when its httpx client is imported; Tether
    # standardises on httpx, and the nudge would otherwise reach every server's log.
    warnings.filterwarnings("ignore", message="The httpx module is deprecated")
    from authlib.integrations.httpx_client import AsyncOAuth2Client as AsyncOAuth2Client  # re-exported
from authlib.oauth2.client import DEFAULT_HEADERS
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri

from tether.auth._errors import OAuthError, TokenEndpointTimeout, TokenEndpointUnreachable
from tether.auth._pkce import create_s256_code_challenge
from tether.auth._tokens import TokenSet

__all__ = ["DEFAULT_QUIRKS", "Endpoints", "OAuthProvider", "Quirks"]


@dataclasses.dataclass(frozen=True)
class Endpoints:
    """Where a provider lives; ``refresh_url`` defaults to ``token_url``."""

    token_url: str
    authorization_url: str | None = None
    refresh_url: str | None = None

    @property
    def refresh(self) -> str:
        """The URL refresh requests go to."""
        return self.refresh_url or self.token_url


@dataclasses.dataclass(frozen=True)
class Quirks:
    """How a provider departs from plain RFC 6749 (one value object instead of many flags).

    Args:
        pkce: send an S256 code challenge (every provider that accepts it should get one).
        authorize_params: extra query parameters for the authorization URL (``access_type=offline``).
        token_params: extra form fields for every token request (Entra v1 ``resource``).
        token_headers: extra headers for token requests.
        scope_delimiter: how scopes are joined (Slack uses ``,``).
        scope_param: the query parameter carrying scopes (Slack user tokens: ``user_scope``).
        auth_method: how the client authenticates at the token endpoint (authlib's method names).
    """

    pkce: bool = True
    authorize_params: Mapping[str, str] = dataclasses.field(default_factory=dict)
    token_params: Mapping[str, str] = dataclasses.field(default_factory=dict)
    token_headers: Mapping[str, str] = dataclasses.field(default_factory=dict)
    scope_delimiter: str = " "
    scope_param: str = "scope"
    auth_method: str = "client_secret_post"


DEFAULT_QUIRKS: Final = Quirks()


class OAuthProvider:
    """An OAuth 2.0 authorization server as Tether uses it.

    Built by :func:`provider_for` from a connector's ``oAuthSettings``; presets subclass it to parse
    unusual token responses (:meth:`parse_token`). Each token request opens a short-lived authlib client;
    pass ``http_client`` to share a connection pool (and, in tests, a mock transport).
    """

    name = "oauth2"

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str | None,
        endpoints: Endpoints,
        scopes: Sequence[str] = (),
        quirks: Quirks = DEFAULT_QUIRKS,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self.client_id = client_id
        self._client_secret = client_secret
        self.endpoints = endpoints
        self.scopes = tuple(scopes)
        self.quirks = quirks
        self._http_client = http_client

    # -- the authorization step (no network) ------------------------------------------------------

    def authorization_url(self, *, redirect_uri: str, state: str, code_verifier: str | None = None) -> str:
        """The URL to send the user's browser to; carries ``state`` and, with PKCE, the S256 challenge."""
        if not self.endpoints.authorization_url:
            raise OAuthError(
                f"{self.name}: this provider has no authorization URL (client credentials only)",
                error="unsupported_grant_type",
                provider=self.name,
            )
        params: dict[str, Any] = dict(self.quirks.authorize_params)
        if self.scopes:
            params[self.quirks.scope_param] = self.quirks.scope_delimiter.join(self.scopes)
        params.update(self._pkce_params(code_verifier))
        return str(
            prepare_grant_uri(
                self.endpoints.authorization_url,
                client_id=self.client_id,
                response_type="code",
                redirect_uri=redirect_uri,
                state=state,
                **params,
            )
        )

    def _pkce_params(self, code_verifier: str | None) -> dict[str, str]:
        if not (self.quirks.pkce and code_verifier):
            return {}
        return {"code_challenge": create_s256_code_challenge(code_verifier), "code_challenge_method": "S256"}

    # -- token requests ---------------------------------------------------------------------------

    async def exchange_code(
        self, code: str, *, redirect_uri: str, code_verifier: str | None = None
    ) -> TokenSet:
        """Trade the authorization ``code`` from the redirect for tokens."""
        fields: dict[str, Any] = {"code": code, "redirect_uri": redirect_uri, **self.quirks.token_params}
        if self.quirks.pkce and code_verifier:
            fields["code_verifier"] = code_verifier
        async with self._client() as client:
            raw = await self._call(
                "token exchange",
                client.fetch_token(
                    self.endpoints.token_url,
                    grant_type="authorization_code",
                    headers=self._headers(),
                    **fields,
                ),
            )
        return self._parse("token exchange", raw)

    async def refresh(self, refresh_token: str) -> TokenSet:
        """New tokens from a refresh token; the result carries the provider's rotated refresh token, or
        the one given when the provider does not rotate."""
        async with self._client() as client:
            raw = await self._call(
                "token refresh",
                client.refresh_token(
                    self.endpoints.refresh,
                    refresh_token=refresh_token,
                    headers=self._headers(),
                    **self.quirks.token_params,
                ),
            )
        token = self._parse("token refresh", raw)
        return token if token.refresh_token else dataclasses.replace(token, refresh_token=refresh_token)

    async def client_credentials(self, scopes: Sequence[str] | None = None) -> TokenSet:
        """A token for the application itself (no user): the grant Power Platform lacks and Tether offers."""
        wanted = self.scopes if scopes is None else tuple(scopes)
        fields: dict[str, Any] = dict(self.quirks.token_params)
        if wanted:
            fields["scope"] = self.quirks.scope_delimiter.join(wanted)
        async with self._client() as client:
            raw = await self._call(
                "client credentials grant",
                client.fetch_token(
                    self.endpoints.token_url,
                    grant_type="client_credentials",
                    headers=self._headers(),
                    **fields,
                ),
            )
        return self._parse("client credentials grant", raw)

    def parse_token(self, raw: Mapping[str, Any]) -> TokenSet:
        """Turn a successful token response into a :class:`TokenSet` (presets override for odd shapes)."""
        return TokenSet.from_response(raw)

    # -- plumbing ---------------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        return {**DEFAULT_HEADERS, **self.quirks.token_headers}

    def _client(self) -> AsyncOAuth2Client:
        """A fresh authlib client: cheap, and it keeps no token state between connections."""
        method = self.quirks.auth_method if self._client_secret else "none"
        options: dict[str, Any] = {}
        if self._http_client is not None:
            options["transport"] = _SharedTransport(self._http_client)
        client = AsyncOAuth2Client(
            client_id=self.client_id,
            client_secret=self._client_secret,
            token_endpoint_auth_method=method,
            **options,
        )
        self._configure(client)
        return client

    def _configure(self, client: AsyncOAuth2Client) -> None:
        """Hook for presets that need a custom client authentication (certificate assertions)."""

    async def _call(self, step: str, pending: Any) -> Mapping[str, Any]:
        """Await an authlib token call, translating its and httpx's errors into :class:`OAuthError`."""
        try:
            raw = await pending
        except AuthlibOAuthError as exc:
            raise OAuthError.from_provider(
                step,
                error=str(exc.error or "oauth_error"),
                error_description=exc.description,
                provider=self.name,
            ) from exc
        except httpx.HTTPStatusError as exc:
            status = exc.response.status_code
            if status >= 500:  # the provider's trouble, not a verdict on the grant
                raise TokenEndpointUnreachable(
                    f"{step} failed: {self.name}'s token endpoint answered HTTP {status}",
                    error="http_error",
                    provider=self.name,
                    outcome_unknown=True,
                ) from exc
            raise OAuthError.from_provider(
                step,
                error="http_error",
                error_description=f"HTTP {status} from the token endpoint",
                provider=self.name,
            ) from exc
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise TokenEndpointUnreachable(
                f"{step} failed: {self.name}'s token endpoint could not be reached ({type(exc).__name__})",
                provider=self.name,
            ) from exc
        except httpx.TimeoutException as exc:
            raise TokenEndpointTimeout(
                f"{step} failed: {self.name}'s token endpoint did not answer in time ({type(exc).__name__})",
                provider=self.name,
            ) from exc
        except httpx.TransportError as exc:
            # Reset or cut after the request left: the provider may have acted on it.
            raise TokenEndpointUnreachable(
                f"{step} failed: the connection to {self.name}'s token endpoint was lost "
                f"({type(exc).__name__})",
                provider=self.name,
                outcome_unknown=True,
            ) from exc
        except ValueError as exc:  # authlib: the body was not a JSON object
            raise OAuthError.from_provider(
                step, error="invalid_response", error_description=str(exc), provider=self.name
            ) from exc
        return raw if isinstance(raw, Mapping) else {}

    def _parse(self, step: str, raw: Mapping[str, Any]) -> TokenSet:
        try:
            return self.parse_token(raw)
        except (KeyError, TypeError, ValueError) as exc:
            raise OAuthError.from_provider(
                step,
                error="invalid_response",
                error_description="the answer has no usable access_token",
                provider=self.name,
            ) from exc

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, client_id={self.client_id!r}, client_secret='***')"


class _SharedTransport(httpx.AsyncBaseTransport):
    """Sends authlib's requests through the caller's ``httpx.AsyncClient`` (its pool, its transport)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._client.send(request, stream=True)

    async def aclose(self) -> None:
        """The shared client belongs to the caller: closing an authlib client must not close it."""
