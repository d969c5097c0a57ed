"""Control: Condition (If), Switch, Scope, Terminate, Response and Delay (Wait).

A container's status is its branch's status: Failed when an action inside failed unhandled, so a
Scope is the try block of Logic Apps' try/catch (a sibling runs after it ``Failed``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from tether.flows._request import response_headers, response_status_problem
from tether.flows.engine._conditions import check_condition
from tether.flows.engine._errors import ActionFailure, RunTerminated
from tether.flows.engine._step import Outcome, Step
from tether.flows.engine.actions._registry import action
from tether.flows.expressions import FUNCTIONS

__all__: list[str] = []

_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400, "month": 30 * 86400}


def _branch_outcome(status: str, inputs: Any = None) -> Outcome:
    if status == "Succeeded":
        return Outcome(inputs=inputs)
    return Outcome(
        inputs=inputs,
        status="Failed",
        code="ActionFailed",
        error={"code": "ActionFailed", "message": "An action failed. No dependent actions succeeded."},
    )


@action("Scope", container=True)
async def scope(step: Step) -> Outcome:
    status = await step.run_actions(step.spec.branches.get("actions", {}), prefix=step.record.path + "/")
    return _branch_outcome(status)


@action("If", container=True)
async def condition(step: Step) -> Outcome:
    verdict = step.decide("expression", lambda: check_condition(step.raw.get("expression"), step.context()))
    branch = step.spec.branches.get("actions" if verdict else "else/actions", {})
    status = await step.run_actions(branch, prefix=step.record.path + "/")
    return _branch_outcome(status, {"expressionResult": verdict})


@action("Switch", container=True)
async def switch(step: Step) -> Outcome:
    def choose() -> str:
        value = step.evaluate(step.raw.get("expression"))
        cases = step.raw.get("cases")
        for name, case in cases.items() if isinstance(cases, Mapping) else ():
            if isinstance(case, Mapping) and FUNCTIONS["equals"](step.context(), case.get("case"), value):
                return f"cases/{name}"
        return "default"

    chosen = step.decide("case", choose)
    status = await step.run_actions(step.spec.branches.get(chosen, {}), prefix=step.record.path + "/")
    return _branch_outcome(status, {"case": chosen.removeprefix("cases/")})


@action("Terminate")
async def terminate(step: Step) -> Outcome:
    inputs = step.inputs() or {}
    status = str(inputs.get("runStatus", "Failed")).capitalize()
    if status not in ("Failed", "Cancelled", "Succeeded"):
        raise ActionFailure(
            "InvalidTemplate", f"runStatus must be Failed, Cancelled or Succeeded, not {status!r}"
        )
    error = inputs.get("runError") if status == "Failed" else None
    step.record.inputs = inputs
    if status == "Failed" and not isinstance(error, Mapping):
        error = {"code": "Terminated", "message": "The run was terminated."}
    raise RunTerminated(status, dict(error) if error else None)


@action("Response")
async def response(step: Step) -> Outcome:
    inputs = step.inputs() or {}
    if step.run.state.response is not None:
        raise ActionFailure(
            "ActionResponseAlreadySent", "A Response action already answered this run's caller."
        )
    status = inputs.get("statusCode", 200)
    try:
        status = int(status)
    except (TypeError, ValueError) as exc:
        raise ActionFailure("InvalidTemplate", f"statusCode must be a number, not {status!r}") from exc
    problem = response_status_problem(status)
    if problem:
        raise ActionFailure("InvalidTemplate", problem)
    headers = inputs.get("headers") or {}
    if not isinstance(headers, Mapping):
        raise ActionFailure("InvalidTemplate", f"headers must be an object, not {headers!r}")
    # Headers Logic Apps drops (Set-Cookie, Expires, Allow...) never reach the caller, silently.
    answer = {"statusCode": status, "headers": response_headers(headers), "body": inputs.get("body")}
    step.run.state.response = answer
    await step.run.journal.responded(answer)
    return Outcome(outputs=answer, inputs=inputs)


@action("Wait", side_effects=True)
async def wait(step: Step) -> Outcome:
    inputs = step.inputs() or {}
    interval, until = inputs.get("interval"), inputs.get("until")
    if isinstance(interval, Mapping):
        unit = str(interval.get("unit", "Second")).lower()
        if unit not in _UNITS:
            raise ActionFailure(
                "InvalidTemplate", f"Wait unit must be one of {', '.join(_UNITS)}, not {unit!r}"
            )
        seconds = float(interval.get("count", 0)) * _UNITS[unit]
    elif isinstance(until, Mapping) and until.get("timestamp"):
        moment = datetime.fromisoformat(str(until["timestamp"]).replace("Z", "+00:00"))
        seconds = (moment - step.services.clock.now()).total_seconds()
    else:
        raise ActionFailure(
            "InvalidTemplate", "Wait needs inputs.interval {count, unit} or inputs.until {timestamp}"
        )
    # Resumed mid-wait: only the rest of the wait is left.
    elapsed = (step.services.clock.now() - step.record.start).total_seconds() if step.record.start else 0.0
    await step.sleep(max(0.0, seconds - elapsed))
    return Outcome(inputs=inputs)
