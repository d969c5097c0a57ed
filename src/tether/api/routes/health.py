"""Liveness: the one route that needs no authentication (load balancers call it)."""

from __future__ import annotations

from fastapi import APIRouter

import tether
from tether.api._deps import Db

router = APIRouter(tags=["health"])


@router.get("/health", summary="Is the server up and its database reachable and writable?")
def health(db: Db) -> dict[str, str]:
    # A write probe, not SELECT 1: a read-only database answers reads while every save fails,
    # and a load balancer should take such a server out (503 problem+json, from the store's error).
    db.check_writable()
    return {"status": "ok", "version": tether.__version__, "database": db.dialect}
