"""Slack OAuth v2: user tokens live under ``authed_user`` and errors arrive with HTTP 200.

A connection acts as the signed-in user, so scopes go in ``user_scope`` (comma-separated) and the token
is read from ``authed_user`` (``xoxp-``); a top-level bot token is used only when there is no user token.
With token rotation enabled Slack also returns ``refresh_token`` and ``expires_in`` there. Slack
documents no PKCE for this flow, so none is sent.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Final

import httpx

from tether.auth._tokens import TokenSet
from tether.auth.providers._base import Endpoints, OAuthProvider, Quirks
from tether.auth.providers._inputs import ProviderInputs

__all__ = ["SLACK_ENDPOINTS", "SlackProvider", "build_slack"]

SLACK_ENDPOINTS: Final = Endpoints(
    authorization_url="https://slack.com/oauth/v2/authorize",
    token_url="https://slack.com/api/oauth.v2.access",
)
SLACK_QUIRKS: Final = Quirks(pkce=False, scope_delimiter=",", scope_param="user_scope")


class SlackProvider(OAuthProvider):
    """Slack's v2 flow, reading the user token from ``authed_user``."""

    name = "slack"

    def parse_token(self, raw: Mapping[str, Any]) -> TokenSet:
        """The ``authed_user`` token when present, with the team kept in ``extra``."""
        user = raw.get("authed_user")
        source: Mapping[str, Any] = user if isinstance(user, Mapping) and user.get("access_token") else raw
        token = TokenSet.from_response(source)
        extra = {k: v for k, v in token.extra.items() if k not in {"ok", "id"}}
        if source.get("id"):
            extra["user_id"] = source["id"]
        team = raw.get("team")
        if isinstance(team, Mapping) and team.get("id"):
            extra["team_id"] = team["id"]
        # Slack says "user" or "bot"; either way the API wants "Authorization: Bearer".
        return dataclasses.replace(token, token_type="Bearer", extra=extra)


def build_slack(inputs: ProviderInputs, http_client: httpx.AsyncClient | None) -> OAuthProvider:
    """A Slack client for user tokens."""
    return SlackProvider(
        client_id=inputs.client_id,
        client_secret=inputs.client_secret,
        endpoints=SLACK_ENDPOINTS,
        scopes=inputs.scopes,
        quirks=SLACK_QUIRKS,
        http_client=http_client,
    )
