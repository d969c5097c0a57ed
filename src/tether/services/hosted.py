"""What the hosting layer uses of the services: one seam, so it is plain which parts of the use
cases the run journal, the triggers and the flow host depend on (and nothing else reaches in).

These are not use cases for callers: they write the rows a run or trigger needs, read an
environment's network policy, variables and run privacy, prepare a connection for a call, and
encode run state. The permission checks stay in the use cases that created the run or trigger.
"""

from tether.services._alerts import AlertMail, plan_alert_mails
from tether.services._audit_log import purge_audit
from tether.services._connection_call import PreparedCall, prepare_by_id, prepare_call
from tether.services._connector_runner import ConnectorRunner
from tether.services._environment_variables import environment_values, flow_environment_values
from tether.services._events import Subject, purge_events, record_event
from tether.services._flow_compliance import flow_http_rules
from tether.services._flow_kind import STATELESS_RUN_SECONDS, RunHistory
from tether.services._flow_requests import (
    RequestTarget,
    accept_request,
    check_trigger_signature,
    request_target,
    run_values,
)
from tether.services._flow_runs import (
    DEFAULT_RUN_RETENTION,
    RunInfo,
    create_run,
    purge_runs,
    run_info,
    run_parameters,
    trigger_signature,
)
from tether.services._invoke import run_operation
from tether.services._network import flow_network_policy, network_policy
from tether.services._read_cache import ReadCache
from tether.services._run_codec import EMPTY_PROGRESS, compiled_definition, encode, jsonable
from tether.services._run_events import record_run_end, record_trigger_failure
from tether.services._run_privacy import run_privacy
from tether.services._run_secrets import SEALED, RunPrivacy, unseal
from tether.services._webhook_delivery import (
    DEFAULT_RETRY_SCHEDULE,
    DueDelivery,
    RetrySchedule,
    claim_deliveries,
    finish_delivery,
    signature_headers,
)

__all__ = [
    "DEFAULT_RETRY_SCHEDULE",
    "DEFAULT_RUN_RETENTION",
    "EMPTY_PROGRESS",
    "SEALED",
    "STATELESS_RUN_SECONDS",
    "AlertMail",
    "ConnectorRunner",
    "DueDelivery",
    "PreparedCall",
    "ReadCache",
    "RequestTarget",
    "RetrySchedule",
    "RunHistory",
    "RunInfo",
    "RunPrivacy",
    "Subject",
    "accept_request",
    "check_trigger_signature",
    "claim_deliveries",
    "compiled_definition",
    "create_run",
    "encode",
    "environment_values",
    "finish_delivery",
    "flow_environment_values",
    "flow_http_rules",
    "flow_network_policy",
    "jsonable",
    "network_policy",
    "plan_alert_mails",
    "prepare_by_id",
    "prepare_call",
    "purge_audit",
    "purge_events",
    "purge_runs",
    "record_event",
    "record_run_end",
    "record_trigger_failure",
    "request_target",
    "run_info",
    "run_operation",
    "run_parameters",
    "run_privacy",
    "run_values",
    "signature_headers",
    "trigger_signature",
    "unseal",
]
