"""``tether events …``, ``tether webhook …`` and ``tether alerts …``: an environment's event stream,
its webhook subscriptions and deliveries, and alerts by email."""

from __future__ import annotations

import json
import sys
import time
from typing import Annotated, Any

import typer
from rich.markup import escape

from tether.cli._context import EnvOption, ServerOption, TokenOption, client_for, fetch_items
from tether.cli._output import JsonOption, friendly, out, print_items, print_json

__all__ = ["alerts_app", "events_app", "webhook_app"]

events_app = typer.Typer(help="The environment's event stream (list, --follow).", no_args_is_help=True)
webhook_app = typer.Typer(
    help="Webhook subscriptions: create, list, show, update, delete, rotate-secret, deliveries, replay,"
    " test.",
    no_args_is_help=True,
)
alerts_app = typer.Typer(
    help="Alerts by email: settings, subscribe, mute the failure digest.", no_args_is_help=True
)

TypeOption = Annotated[
    list[str] | None,
    typer.Option(
        "--type", "-t", help="Event type or family ('run.'); repeat for several.", show_default=False
    ),
]
WebhookArgument = Annotated[str, typer.Argument(help="The webhook subscription's id.")]
_FOLLOW_EVERY = 2.0  # seconds between polls of --follow


def _event_line(event: dict[str, Any]) -> tuple[str, ...]:
    subject = event["subject"]
    data = event.get("data") or {}
    detail = data.get("error") or data.get("reason") or data.get("decision") or ""
    return (
        str(event["time"])[:19],
        f"[bold]{escape(event['type'])}[/]",
        escape(f"{subject['kind']}:{subject.get('name') or subject['id']}"),
        escape(str(event.get("actor") or "")),
        escape(str(detail)[:80]),
    )


@events_app.command("list")
@friendly
def list_events(
    types: TypeOption = None,
    since: Annotated[str | None, typer.Option("--since", help="Only events at or after (ISO 8601).")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="How many (newest).")] = 50,
    follow: Annotated[
        bool,
        typer.Option(
            "--follow",
            "-f",
            help="Keep printing new events as they happen (Ctrl-C stops; with --json: JSON Lines).",
        ),
    ] = False,
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """The events you may see: newest last (admins see all; others their own and shared resources)."""
    params: dict[str, Any] = {"limit": limit}
    if types:
        params["type"] = types
    if since:
        params["since"] = since
    path = f"/environments/{env}/events"
    with client_for(server, token) as client:
        items = list(reversed(client.json("GET", path, params=params)["items"]))
        if as_json and not follow:
            print_json(items)  # one JSON array, like every other list command
            return
        _print_events(items, as_json=as_json, empty=None if follow else f"No events in environment {env}.")
        last = items[-1]["id"] if items else None
        while follow:
            time.sleep(_FOLLOW_EVERY)
            query: dict[str, Any] = {"limit": 1000, **({"type": types} if types else {})}
            if last is not None:
                query["after"] = last
            else:
                query.pop("limit")
            found = client.json("GET", path, params=query)["items"]
            if last is None:  # nothing seen yet: newest first without 'after'
                found = list(reversed(found))
            if found:
                _print_events(found, as_json=as_json, empty=None)
                last = found[-1]["id"]


def _print_events(items: list[dict[str, Any]], *, as_json: bool, empty: str | None) -> None:
    if as_json:  # --follow: JSON Lines, one compact object per line, so the stream can be piped
        for item in items:
            sys.stdout.write(json.dumps(item, ensure_ascii=False, default=str) + "\n")
        sys.stdout.flush()
        return
    print_items(items, as_json=False, row=_event_line, empty=empty)


def _show_hook(hook: dict[str, Any], *, as_json: bool) -> None:
    if as_json:
        print_json(hook)
        return
    types = ", ".join(hook["event_types"]) or "all events"
    state = "enabled" if hook["enabled"] else "disabled"
    out.print(f"{hook['id']}  {escape(hook['url'])}  ({escape(types)}; {state})")
    if hook.get("secret"):
        out.print(f"Signing secret (shown once, keep it now): [bold]{hook['secret']}[/]")


@webhook_app.command("create")
@friendly
def create_webhook(
    url: Annotated[str, typer.Argument(help="Where events are POSTed (https://…).")],
    types: TypeOption = None,
    description: Annotated[str, typer.Option("--description", help="What it is for.")] = "",
    disabled: Annotated[bool, typer.Option("--disabled", help="Create it switched off.")] = False,
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Subscribe a URL to the environment's events (environment admins); prints the secret once."""
    body = {"url": url, "event_types": types or [], "description": description, "enabled": not disabled}
    with client_for(server, token) as client:
        _show_hook(client.json("POST", f"/environments/{env}/webhooks", json=body), as_json=as_json)


@webhook_app.command("list")
@friendly
def list_webhooks(
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """The environment's webhook subscriptions."""
    items = fetch_items(server, token, f"/environments/{env}/webhooks")
    print_items(
        items,
        as_json=as_json,
        columns=("id", "url", "events", "enabled"),
        row=lambda h: (
            h["id"],
            escape(h["url"]),
            escape(", ".join(h["event_types"]) or "all"),
            str(h["enabled"]),
        ),
        empty=f"No webhook subscriptions in environment {env}.",
    )


@webhook_app.command("show")
@friendly
def show_webhook(
    webhook: WebhookArgument,
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """One subscription (its secret is never shown again: rotate it if lost)."""
    with client_for(server, token) as client:
        _show_hook(client.json("GET", f"/environments/{env}/webhooks/{webhook}"), as_json=as_json)


@webhook_app.command("update")
@friendly
def update_webhook(
    webhook: WebhookArgument,
    url: Annotated[str | None, typer.Option("--url", help="A new receiver URL (https://…).")] = None,
    types: TypeOption = None,
    all_types: Annotated[
        bool, typer.Option("--all-types", help="Send every event type (clears --type filters).")
    ] = False,
    description: Annotated[str | None, typer.Option("--description", help="What it is for.")] = None,
    enabled: Annotated[
        bool | None,
        typer.Option("--enable/--disable", help="Switch deliveries on or off.", show_default=False),
    ] = None,
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change a subscription: only the options given change (environment admins)."""
    if types and all_types:
        raise typer.BadParameter("give --type or --all-types, not both")
    body: dict[str, Any] = {"url": url, "description": description, "enabled": enabled}
    if types or all_types:
        body["event_types"] = types or []
    body = {key: value for key, value in body.items() if value is not None}
    if not body:
        raise typer.BadParameter(
            "nothing to change: give --url, --type, --all-types, --description or --enable/--disable"
        )
    with client_for(server, token) as client:
        _show_hook(
            client.json("PATCH", f"/environments/{env}/webhooks/{webhook}", json=body), as_json=as_json
        )


@webhook_app.command("delete")
@friendly
def delete_webhook(
    webhook: WebhookArgument,
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
) -> None:
    """Delete a subscription and its deliveries."""
    with client_for(server, token) as client:
        client.request("DELETE", f"/environments/{env}/webhooks/{webhook}")
    out.print(f"Deleted webhook {webhook}.")


@webhook_app.command("rotate-secret")
@friendly
def rotate_secret(
    webhook: WebhookArgument,
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """A new signing secret, printed once; deliveries from now on are signed with it."""
    with client_for(server, token) as client:
        _show_hook(
            client.json("POST", f"/environments/{env}/webhooks/{webhook}/rotate-secret"), as_json=as_json
        )


def _delivery_line(d: dict[str, Any]) -> tuple[str, ...]:
    codes = ",".join(str(a.get("status") or "-") for a in d.get("attempts_log") or [])
    return (
        d["id"],
        d["event_type"],
        d["status"],
        str(d["attempts"]),
        codes,
        escape(d.get("last_error") or ""),
    )


@webhook_app.command("deliveries")
@friendly
def list_deliveries(
    webhook: WebhookArgument,
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """A subscription's deliveries, newest first, with each attempt's answer."""
    items = fetch_items(server, token, f"/environments/{env}/webhooks/{webhook}/deliveries")
    print_items(
        items,
        as_json=as_json,
        columns=("id", "event", "status", "attempts", "answers", "last error"),
        row=_delivery_line,
        empty=f"No deliveries for webhook {webhook} yet.",
    )


@webhook_app.command("replay")
@friendly
def replay_delivery(
    webhook: WebhookArgument,
    delivery: Annotated[str, typer.Argument(help="The delivery's id ('tether webhook deliveries').")],
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Send a delivery's event again now, with the same webhook-id."""
    path = f"/environments/{env}/webhooks/{webhook}/deliveries/{delivery}/replay"
    with client_for(server, token) as client:
        found = client.json("POST", path)
    if as_json:
        print_json(found)
        return
    out.print(f"Queued delivery {found['id']} (a replay of {delivery}).")


@webhook_app.command("test")
@friendly
def test_webhook(
    webhook: WebhookArgument,
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Send a webhook.test event to this subscription."""
    with client_for(server, token) as client:
        found = client.json("POST", f"/environments/{env}/webhooks/{webhook}/test")
    if as_json:
        print_json(found)
        return
    out.print(f"Queued test delivery {found['id']}; see it with 'tether webhook deliveries {webhook}'.")


@alerts_app.command("settings")
@friendly
def alert_settings(
    connection: Annotated[
        str | None, typer.Option("--connection", help="The Mail (SMTP) connection's id alerts go through.")
    ] = None,
    off: Annotated[bool, typer.Option("--off", help="Send no alert mails.")] = False,
    digest_minutes: Annotated[
        int | None, typer.Option("--digest-minutes", min=1, help="The failure digest's window.")
    ] = None,
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show the alert settings, or set them (environment admins)."""
    path = f"/environments/{env}/alerts/settings"
    with client_for(server, token) as client:
        found = client.json("GET", path)
        if connection is not None or off or digest_minutes is not None:
            body = {
                "connection": None if off else (connection or found["connection_id"]),
                "digest_minutes": digest_minutes or found["digest_minutes"],
            }
            found = client.json("PUT", path, json=body)
    if as_json:
        print_json(found)
        return
    via = found["connection_id"] or "nothing (alert mails are off)"
    out.print(f"Alerts in {env} go through {via}; failure digest every {found['digest_minutes']} min.")


@alerts_app.command("subscribe")
@friendly
def subscribe(
    types: TypeOption = None,
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Mail me events of these types (those I may see), to my account's email address."""
    if not types:
        raise typer.BadParameter("name at least one event type, e.g. --type run.failed", param_hint="--type")
    with client_for(server, token) as client:
        found = client.json(
            "POST", f"/environments/{env}/alerts/rules", json={"kind": "email", "event_types": types}
        )
    if as_json:
        print_json(found)
        return
    out.print(f"Subscribed ({found['id']}) to {', '.join(found['event_types'])}.")


@alerts_app.command("mute")
@friendly
def mute_digest(
    flow: Annotated[str | None, typer.Option("--flow", help="Only this flow of yours (else all).")] = None,
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """No failure digest for one of my flows, or for all of them."""
    with client_for(server, token) as client:
        found = client.json(
            "POST", f"/environments/{env}/alerts/rules", json={"kind": "no-digest", "flow": flow}
        )
    if as_json:
        print_json(found)
        return
    out.print(f"Muted the failure digest ({found['id']}) for {'flow ' + flow if flow else 'all your flows'}.")


@alerts_app.command("rules")
@friendly
def list_rules(
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """My alert rules in the environment."""
    items = fetch_items(server, token, f"/environments/{env}/alerts/rules")
    print_items(
        items,
        as_json=as_json,
        columns=("id", "kind", "events", "flow"),
        row=lambda r: (r["id"], r["kind"], ", ".join(r["event_types"]), r["flow_id"] or ""),
        empty="You have no alert rules here.",
    )


@alerts_app.command("delete")
@friendly
def delete_rule(
    rule: Annotated[str, typer.Argument(help="The rule's id ('tether alerts rules').")],
    env: EnvOption = "default",
    server: ServerOption = None,
    token: TokenOption = None,
) -> None:
    """Delete one of my alert rules."""
    with client_for(server, token) as client:
        client.request("DELETE", f"/environments/{env}/alerts/rules/{rule}")
    out.print(f"Deleted alert rule {rule}.")
