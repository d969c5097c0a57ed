"""Hosting: the machinery that keeps flows running in a process.

The run journal and its writer, the Recurrence scheduler, polling and webhook triggers with their
leases, stateless runs, the :class:`EventDispatcher` (webhook deliveries and alert mails), and
:class:`FlowHost`, which ``tether serve`` starts in its lifespan and the Celery executor reuses in
workers. It sits above ``services``: it runs what the use cases
there created and checked (a run row, a trigger's subscription), and holds no permission rule.
"""

from tether.hosting._connector_calls import FlowConnectorCaller
from tether.hosting._event_dispatch import DispatchOptions, EventDispatcher
from tether.hosting._host import FlowHost
from tether.hosting._journal import ClaimedRun, advance_run, claim_run
from tether.hosting._scheduler import RecurrenceScheduler
from tether.hosting._triggers import ConnectorTriggers

__all__ = [
    "ClaimedRun",
    "ConnectorTriggers",
    "DispatchOptions",
    "EventDispatcher",
    "FlowConnectorCaller",
    "FlowHost",
    "RecurrenceScheduler",
    "advance_run",
    "claim_run",
]
