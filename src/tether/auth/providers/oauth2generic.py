"""``identityProvider: oauth2generic``: URLs, query strings and bodies written as templates (27 corpus
connectors), e.g. Zoho's ``https://accounts.zoho{CustomHost}/oauth/v2/token`` with
``tokenBodyTemplate: code={code}&grant_type=authorization_code&client_id={clientId}&…``.

Keys (case-insensitive): ``authorizationUrlTemplate``, ``authorizationUrlQueryStringTemplate``,
``tokenUrlTemplate``, ``tokenUrlQueryStringTemplate``, ``tokenBodyTemplate``, ``refreshUrlTemplate``,
``refreshUrlQueryStringTemplate``, ``refreshBodyTemplate``, ``scopeListDelimiter``. Placeholders: see
``_templates``. Without a body template the request is a standard one built by authlib; with one, the
body is the template (plus ``code_verifier`` for PKCE) and authlib parses the answer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import httpx

from tether.auth._tokens import TokenSet
from tether.auth.providers._base import Endpoints, OAuthProvider, Quirks
from tether.auth.providers._inputs import ProviderInputs
from tether.auth.providers._templates import render
from tether.errors import InputError

__all__ = ["GenericTemplateProvider", "build_oauth2generic"]

_FORM = "application/x-www-form-urlencoded"


class GenericTemplateProvider(OAuthProvider):
    """An OAuth 2.0 client whose requests follow the connector's templates."""

    name = "oauth2generic"

    def __init__(self, inputs: ProviderInputs, *, http_client: httpx.AsyncClient | None = None) -> None:
        self._inputs = inputs
        delimiter = inputs.custom.get("scopelistdelimiter")
        quirks = Quirks(scope_delimiter=delimiter if isinstance(delimiter, str) else " ")
        self._scope_text = ""  # scopes may themselves be templates ("{Scope}"), so render them first
        rendered = [render(scope, inputs, self._flow(), encode=False) for scope in inputs.scopes]
        scopes = [s for s in rendered if s]
        self._scope_text = quirks.scope_delimiter.join(scopes)
        token_url = self._url("tokenUrlTemplate", "tokenUrlQueryStringTemplate")
        if not token_url:
            raise InputError("oauth2generic needs customParameters.tokenUrlTemplate")
        endpoints = Endpoints(
            token_url=token_url,
            authorization_url=self._url("authorizationUrlTemplate", None),
            refresh_url=self._url("refreshUrlTemplate", "refreshUrlQueryStringTemplate"),
        )
        super().__init__(
            client_id=inputs.client_id,
            client_secret=inputs.client_secret,
            endpoints=endpoints,
            scopes=scopes,
            quirks=quirks,
            http_client=http_client,
        )

    def _flow(self, **values: str) -> dict[str, str]:
        # Every flow placeholder has a value in every step (corpus refresh bodies mention {Code}).
        base = {"state": "", "redirectUrl": "", "code": "", "refreshToken": "", "scopes": self._scope_text}
        return {**base, **values}

    def _template(self, key: str | None) -> str | None:
        value = self._inputs.custom.get(key.lower()) if key else None
        return value if isinstance(value, str) and value.strip() else None

    def _url(self, url_key: str, query_key: str | None, **flow: str) -> str | None:
        url = self._template(url_key)
        if url is None:
            return None
        full = render(url, self._inputs, self._flow(**flow), encode=False)
        query = self._template(query_key)
        if query:
            rendered = render(query, self._inputs, self._flow(**flow), encode=True)
            full += ("&" + rendered.lstrip("?&")) if "?" in full else ("?" + rendered.lstrip("?&"))
        return full

    def authorization_url(self, *, redirect_uri: str, state: str, code_verifier: str | None = None) -> str:
        """The rendered authorization URL, plus ``state`` and PKCE when the template lacks them."""
        query = self._template("authorizationUrlQueryStringTemplate")
        if query is None:
            return super().authorization_url(
                redirect_uri=redirect_uri, state=state, code_verifier=code_verifier
            )
        flow = self._flow(state=state, redirectUrl=redirect_uri)
        url = self._url("authorizationUrlTemplate", "authorizationUrlQueryStringTemplate", **flow) or ""
        params = httpx.URL(url).params
        extra = dict(self._pkce_params(code_verifier))
        if "state" not in params:
            extra["state"] = state  # the state is our CSRF protection: never let a template drop it
        return str(httpx.URL(url).copy_merge_params(extra)) if extra else url

    async def exchange_code(
        self, code: str, *, redirect_uri: str, code_verifier: str | None = None
    ) -> TokenSet:
        """The templated token request, or a standard one when the connector has no body template."""
        body = self._template("tokenBodyTemplate")
        if body is None:
            return await super().exchange_code(code, redirect_uri=redirect_uri, code_verifier=code_verifier)
        form = render(body, self._inputs, self._flow(code=code, redirectUrl=redirect_uri), encode=True)
        if self.quirks.pkce and code_verifier and "code_verifier=" not in form:
            form += f"&code_verifier={code_verifier}"
        return await self._post_template("token exchange", self.endpoints.token_url, form)

    async def refresh(self, refresh_token: str) -> TokenSet:
        """The templated refresh request, or a standard one when the connector has no body template."""
        body = self._template("refreshBodyTemplate")
        if body is None:
            return await super().refresh(refresh_token)
        form = render(body, self._inputs, self._flow(refreshToken=refresh_token), encode=True)
        token = await self._post_template("token refresh", self.endpoints.refresh, form)
        return token if token.refresh_token else dataclasses.replace(token, refresh_token=refresh_token)

    async def _post_template(self, step: str, url: str, form: str) -> TokenSet:
        headers = {**self._headers(), "Content-Type": _FORM}
        async with self._client() as client:
            # The template already carries the client's credentials: no client auth is added.
            pending = client.post(url, content=form.encode(), headers=headers, auth=None)
            response = await self._call(step, _parsed(client, pending))
        return self._parse(step, response)


async def _parsed(client: Any, pending: Any) -> Mapping[str, Any]:
    response = await pending
    # authlib's own parser: raises its OAuthError for {"error": ...}, HTTP errors for non-JSON failures.
    result: Mapping[str, Any] = client.parse_response_token(response)
    return result


def build_oauth2generic(inputs: ProviderInputs, http_client: httpx.AsyncClient | None) -> OAuthProvider:
    """The template-driven provider."""
    return GenericTemplateProvider(inputs, http_client=http_client)
