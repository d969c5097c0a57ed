"""The seed's redirect-URI audit, end to end: the shipped flow, real SMTP, through a real server."""

from __future__ import annotations

from tests.governance._audit_kit import ENV, Cli, World, html_of
from tether.cli.redirect_audit import table_rows


def _smtp(world: World) -> list[str]:
    return [
        "--smtp-host", "127.0.0.1", "--smtp-port", str(world.smtp_port), "--smtp-tls", "none",
        "--smtp-from", "tether@example.test",
    ]  # fmt: skip


def _audit(cli: Cli, world: World, *extra: str):
    result = cli("admin", "redirect-audit", "--env", ENV, *_smtp(world), *extra)
    assert result.exit_code == 0, result.output
    return result


def _rows(html: str) -> list[list[str]]:
    rows = table_rows(html)
    assert rows and rows[0] == ["Connector", "Environment", "Creator"][: len(rows[0])], rows
    return rows[1:]


def test_the_audit_emails_exactly_the_connectors_on_the_global_uri_and_forgets_migrated_ones(
    cli: Cli, world: World
) -> None:
    start = world.mailbox.count()
    result = _audit(cli, world, "--email", "admin@example.test")
    [(recipients, message)] = world.mailbox.since(start, 1)
    assert recipients == ["admin@example.test"]
    assert message["From"] == "tether@example.test"
    rows = sorted(_rows(html_of(message)))
    assert rows == [
        ["Multi Auth", ENV, "Bob Builder <bob@example.test>"],
        ["OAuth Global", ENV, "Alice Maker <alice@example.test>"],
    ]
    assert "OAuth Global" in result.output and "Multi Auth" in result.output
    assert "Keyed API" not in result.output and "OAuth Own" not in result.output

    with world.http("alice") as alice:
        moved = alice.put(
            f"/environments/{ENV}/connectors/oauth-global/redirect-mode",
            json={"redirect_mode": "GlobalPerConnector"},
        )
        assert moved.status_code == 200, moved.text
    try:
        start = world.mailbox.count()
        _audit(cli, world, "--email", "admin@example.test")
        [(_recipients, message)] = world.mailbox.since(start, 1)
        assert [row[0] for row in _rows(html_of(message))] == ["Multi Auth"]
    finally:
        with world.http("alice") as alice:
            alice.put(
                f"/environments/{ENV}/connectors/oauth-global/redirect-mode", json={"redirect_mode": "Global"}
            ).raise_for_status()


def test_the_per_creator_variant_sends_each_maker_only_theirs(cli: Cli, world: World) -> None:
    start = world.mailbox.count()
    _audit(cli, world, "--email", "admin@example.test", "--per-creator")
    messages = world.mailbox.since(start, 2)
    assert len(messages) == 2
    by_to = {message["To"]: (recipients, message) for recipients, message in messages}
    assert set(by_to) == {"alice@example.test", "bob@example.test"}
    for maker, expected in (("alice", "OAuth Global"), ("bob", "Multi Auth")):
        recipients, message = by_to[f"{maker}@example.test"]
        assert recipients == [f"{maker}@example.test", "admin@example.test"]  # the admin in copy
        assert [row[0] for row in _rows(html_of(message))] == [expected]


def test_the_template_creates_a_flow_that_validates(cli: Cli, world: World) -> None:
    result = cli("flow", "create", "--template", "redirect-uri-audit", "--name", "audit-copy", "--env", ENV)
    assert result.exit_code == 0, result.output
    missing = cli("flow", "create", "--template", "no-such-template", "--env", ENV)
    assert missing.exit_code != 0
    assert "redirect-uri-audit" in missing.output  # the error names the choices
