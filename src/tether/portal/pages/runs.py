"""A run's page, like Logic Apps' run view: the flow's picture coloured by status, the trigger,
then every action with status, start, duration, retries, inputs and outputs (as the services masked
them), loop iterations one at a time, the failed action's error on top; resubmit and cancel.

While a run is waiting or running, the run section reloads itself every second (htmx), so the page
follows the run without a script of its own.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from tether import services
from tether.errors import TetherError
from tether.flows.engine import FINAL_RUN_STATUSES
from tether.portal._deps import Db, Env, Keys, SignedIn
from tether.portal._flow_picture import flow_picture, render_flow_picture
from tether.portal._routing import PortalRoute
from tether.portal._run_view import ActionView, RunView, run_view
from tether.portal._templates import render
from tether.portal.pages.flows import Runtime

__all__ = ["ITERATION_PARAM", "router"]

router = APIRouter(route_class=PortalRoute, include_in_schema=False)

ITERATION_PARAM = "it."  # ?it.Each=3 shows iteration 3 of the loop at path Each


def _picture(definition: Any, view: RunView) -> str | None:
    try:
        return render_flow_picture(flow_picture(definition), statuses=view.statuses, link_for=view.link_for)
    except TetherError:
        return None


@router.get("/e/{env}/flows/{flow}/runs/{run_id}")
def show_run(
    request: Request, env: Env, flow: str, run_id: str, db: Db, principal: SignedIn, keys: Keys
) -> Response:
    info = services.get_flow(db, principal, env.name, flow)
    view = run_view(services.get_run(db, principal, env.name, info.name, run_id, keyring=keys))
    query = dict(request.query_params)

    def chosen(loop: ActionView) -> int | None:
        """The iteration shown for ``loop``: the one asked for, else the first failed, else the first."""
        raw = query.get(ITERATION_PARAM + loop.path, "")
        if raw.isdigit() and loop.iteration(int(raw)) is not None:
            return int(raw)
        failed = next((it.index for it in loop.iterations if it.status in ("Failed", "TimedOut")), None)
        return failed if failed is not None else (loop.iterations[0].index if loop.iterations else None)

    def iteration_link(loop: ActionView, index: int) -> str:
        return "?" + urlencode({**query, ITERATION_PARAM + loop.path: str(index)}) + f"#{loop.anchor}"

    return render(
        request,
        "flows/run.html",
        title=f"Run {run_id} of {info.display_name}",
        section="flows",
        flow=info,
        view=view,
        run=view.detail.run,
        running=view.detail.run.status not in FINAL_RUN_STATUSES,
        picture=_picture(info.definition, view),
        chosen=chosen,
        iteration_link=iteration_link,
        self_url=str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
    )


@router.post("/e/{env}/flows/{flow}/runs/{run_id}/resubmit")
def resubmit_run(env: Env, flow: str, run_id: str, db: Db, principal: SignedIn, runtime: Runtime) -> Response:
    run = services.resubmit_run(db, principal, env.name, flow, run_id, keyring=runtime.keyring)
    runtime.submit(run.id)
    return RedirectResponse(f"/e/{env.name}/flows/{flow}/runs/{run.id}", status_code=303)


@router.post("/e/{env}/flows/{flow}/runs/{run_id}/cancel")
def cancel_run(env: Env, flow: str, run_id: str, db: Db, principal: SignedIn, runtime: Runtime) -> Response:
    services.cancel_run(db, principal, env.name, flow, run_id)
    runtime.cancel(run_id)
    return RedirectResponse(f"/e/{env.name}/flows/{flow}/runs/{run_id}", status_code=303)
