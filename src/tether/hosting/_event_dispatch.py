"""The event dispatcher: sends webhook deliveries and alert mails, in every serving process.

Each pass claims the deliveries that are due (a lease, so several processes share the work and
a dead one's claims come back by themselves), sends them at most ``concurrency`` at a time
through **the runtime's one transport** under the environment's network policy (the SSRF guard
refuses loopback, private and metadata addresses unless the environment's ``network_allow``
opens them), each within ``timeout``, and records every attempt. A failure is retried on the
:class:`~tether.services.hosted.RetrySchedule`; a refused destination is not (nothing changes by
waiting: an admin must open it), and says so on the delivery.

Alert mails are planned by the services (``plan_alert_mails``: per-user event mails and flow
owners' failure digests) and sent here through the environment's Mail (SMTP) connection, as a
flow's Send an email action would be. A ``clock`` makes digests testable without waiting.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import httpx

from tether.definition import Api, Operation
from tether.errors import TetherError
from tether.flows.engine import SYSTEM_CLOCK, Clock
from tether.hosting._connector_calls import FlowConnectorCaller
from tether.hosting._http_webhook import environment_policy
from tether.runtime import ConnectionContext, DestinationRefused, Exchange
from tether.secrets import KeyRing
from tether.services.hosted import (
    DEFAULT_RETRY_SCHEDULE,
    AlertMail,
    DueDelivery,
    RetrySchedule,
    claim_deliveries,
    finish_delivery,
    plan_alert_mails,
    purge_events,
    signature_headers,
)
from tether.store import Database, utcnow

__all__ = ["DEFAULT_DISPATCH", "DispatchOptions", "EventDispatcher"]

_log = logging.getLogger("tether.events")
# The transport carries operations of an API; deliveries belong to none, so they travel as this one.
_API: Final = Api(title="Webhooks", version="1", spec_version="2.0")
_OPERATION: Final = Operation(operation_id="WebhookDelivery", method="post", path="/")
_PURGE_EVERY: Final = 3600  # passes between event retention purges
_USER_AGENT: Final = "Tether-Webhooks/1"


@dataclass(frozen=True, slots=True)
class DispatchOptions:
    """How the dispatcher works: the retry schedule, pass interval, concurrency and timeouts."""

    schedule: RetrySchedule = DEFAULT_RETRY_SCHEDULE
    interval: float = 1.0
    concurrency: int = 8
    timeout: float = 15.0
    batch: int = 50

    def __post_init__(self) -> None:
        if self.interval <= 0 or self.concurrency < 1 or self.timeout <= 0 or self.batch < 1:
            raise ValueError("dispatch interval, concurrency, timeout and batch must be positive")

    @classmethod
    def parse(cls, retry_seconds: str, *, interval: float = 1.0) -> DispatchOptions:
        """Options from settings: the waits as ``"10,60,300"`` and the pass interval."""
        return cls(schedule=RetrySchedule.parse(retry_seconds), interval=interval)


DEFAULT_DISPATCH: Final = DispatchOptions()


class EventDispatcher:
    """Sends due webhook deliveries and alert mails; ``run()`` loops until cancelled."""

    def __init__(
        self,
        db: Database,
        caller: FlowConnectorCaller,
        *,
        keyring: KeyRing,
        instance: str,
        options: DispatchOptions = DEFAULT_DISPATCH,
        public_url: str = "",
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.db, self.caller, self.keyring, self.instance = db, caller, keyring, instance
        self.options, self.public_url, self.clock = options, public_url.rstrip("/"), clock
        self._passes = 0

    async def run(self) -> None:
        """Loop: deliveries, alert mails, now and then a purge; survives database hiccups."""
        while True:
            try:
                await self.deliver_due()
                await self.send_alerts()
                self._passes += 1
                if self._passes % _PURGE_EVERY == 1:
                    await asyncio.to_thread(purge_events, self.db)
            except TetherError as exc:
                _log.warning("event dispatch pass failed: %s", exc.message)
            except Exception:  # a bug must not stop deliveries for good: logged, and the next pass runs
                _log.exception("event dispatch pass failed")
            await self.clock.sleep(self.options.interval)

    async def deliver_due(self, now: datetime | None = None) -> int:
        """Claim and send the deliveries due at ``now``; how many were attempted."""
        options = self.options
        lease = options.timeout + 30.0  # a claim outlives its send: nobody else sends it meanwhile
        due = await asyncio.to_thread(
            claim_deliveries,
            self.db,
            self.keyring,
            instance=self.instance,
            limit=options.batch,
            lease=lease,
            now=now or self.clock.now(),
        )
        if not due:
            return 0
        gate = asyncio.Semaphore(options.concurrency)

        async def one(item: DueDelivery) -> None:
            async with gate:
                await self._deliver(item)

        await asyncio.gather(*(one(item) for item in due))
        return len(due)

    async def _deliver(self, item: DueDelivery) -> None:
        started, began = utcnow(), time.monotonic()
        status: int | None = None
        error: str | None = None
        retry = True
        if not item.enabled:
            error, retry = "the subscription is disabled; enable it, then replay the delivery", False
        else:
            try:
                status = await self._post(item)
                if not 200 <= status < 300:
                    error = f"the receiver answered HTTP {status}"
            except DestinationRefused as exc:
                target = exc.address or exc.host
                error = (
                    f"refused to send to {exc.host}: {exc.reason} addresses are blocked by the environment's "
                    f'network policy (an environment admin can allow it: "network_allow": ["{target}"])'
                )
                retry = False
            except TimeoutError:
                error = f"the receiver did not answer within {self.options.timeout:g} s"
            except TetherError as exc:
                error = exc.message
            except Exception:  # a bug: counted as an attempt (so it ends), the details in the log
                _log.exception("webhook delivery %s failed", item.id)
                error = "the delivery failed on an internal error; the server log has the details"
        elapsed = (time.monotonic() - began) * 1000
        outcome = await asyncio.to_thread(
            finish_delivery,
            self.db,
            item.id,
            status_code=status,
            error=error,
            retry=retry,
            schedule=self.options.schedule,
            started=started,
            duration_ms=elapsed,
        )
        if outcome == "failed":
            _log.warning("webhook delivery %s failed for good: %s", item.id, error)

    async def _post(self, item: DueDelivery) -> int:
        """POST the signed payload through the runtime's transport; the answer's status."""
        policy = await asyncio.to_thread(environment_policy, self.db, item.environment_id)
        headers = signature_headers(item.secret, item.message_id, int(time.time()), item.payload)
        headers["user-agent"] = _USER_AGENT
        try:
            request = httpx.Request("POST", item.url, headers=headers, content=item.payload.encode())
        except httpx.InvalidURL as exc:
            raise DestinationRefused(f"not a URL: {exc}", host=item.url[:100], reason="invalid") from None
        exchange = Exchange(
            api=_API,
            operation=_OPERATION,
            # The secret is named so the transport's log lines mask it (it is never sent itself).
            connection=ConnectionContext(
                connection_id=f"webhook:{item.id}", parameters={"secret": item.secret}
            ),
            request=request,
        )
        runtime = self.caller.runtime.runtime
        async with asyncio.timeout(self.options.timeout):
            response = await runtime.transport(policy)(exchange)
            try:
                await response.aread()
            finally:
                await response.aclose()
        return response.status_code

    async def send_alerts(self, now: datetime | None = None) -> int:
        """Plan and send the alert mails due at ``now``; how many were sent."""
        mails = await asyncio.to_thread(
            plan_alert_mails, self.db, now=now or self.clock.now(), public_url=self.public_url
        )
        sent = 0
        for mail in mails:
            if await self._mail(mail):
                sent += 1
        return sent

    async def _mail(self, mail: AlertMail) -> bool:
        message = {"To": mail.to, "Subject": mail.subject, "Body": mail.body}
        try:
            status, _headers, _body = await self.caller.call(
                mail.connection_id, "OPERATION", "SendEmail", {}, {}, {"emailMessage": message}, ""
            )
        except (TetherError, ConnectionError, Exception) as exc:  # logged: an alert must not stop the loop
            _log.warning(
                "alert mail (%s) to a user of environment %s failed: %s", mail.kind, mail.environment_id, exc
            )
            return False
        if status >= 300:
            _log.warning("alert mail (%s) was refused: status %s", mail.kind, status)
            return False
        return True
