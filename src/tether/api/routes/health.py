"""Liveness: the one route that needs no authentication (load balancers call it)."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

import tether
from tether.api._deps import Db

router = APIRouter(tags=["health"])


@router.get("/health", summary="Is the server up and its database reachable?")
def health(db: Db) -> dict[str, str]:
    with db.session() as session:
        session.execute(text("SELECT 1"))
    return {"status": "ok", "version": tether.__version__, "database": db.dialect}
