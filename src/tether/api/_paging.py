"""Lists are paged one way everywhere: ``?limit=&cursor=`` in, ``items`` + ``next`` out.

Every list answer is ``{"items": [...], "next": "<path and query of the next page>" | null,
"next_cursor": "<opaque>" | null}``; a client follows ``next`` until it is null (the CLI does).
``items`` is unchanged from before paging, so readers of one page keep working. The cursor is
opaque: today it encodes the position in the list's stable order (creation or name, as each list
documents), and a client must not build one. A list asks its service for at most ``offset + limit
+ 1`` rows where the service takes a limit, so a page never reads the whole table it could avoid.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import Query, Request

from tether.errors import InputError

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "Page", "page_answer", "paged", "paging"]

DEFAULT_LIMIT = 200
MAX_LIMIT = 1000


@dataclass(frozen=True)
class Page:
    """One page's position (``offset``) and size (``limit``), read from the query."""

    request: Request
    offset: int
    limit: int

    @property
    def end(self) -> int:
        """How many rows to read to fill this page and know whether another follows."""
        return self.offset + self.limit + 1


def paging(*, default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT) -> Callable[..., Any]:
    """A dependency reading ``limit`` and ``cursor`` (use as ``page: Page = Depends(paging())``)."""

    async def page(
        request: Request,
        limit: int = Query(default, ge=1, le=maximum, description=f"Items per page (at most {maximum})."),
        cursor: str | None = Query(
            None, description="Where the page starts: the `next_cursor` of the previous page (opaque)."
        ),
    ) -> Page:
        return Page(request, _offset(cursor), limit)

    return page


def paged(rows: Sequence[Any], page: Page, render: Callable[[Any], Any] = lambda row: row) -> dict[str, Any]:
    """The list answer for ``page`` of ``rows`` (all rows from the start, or at least ``page.end``)."""
    chunk = rows[page.offset : page.offset + page.limit]
    return page_answer([render(row) for row in chunk], page, more=len(rows) > page.offset + page.limit)


def page_answer(items: list[Any], page: Page, *, more: bool) -> dict[str, Any]:
    """The list answer for ``page`` when the service already cut it (``more``: another page follows)."""
    cursor = _cursor(page.offset + page.limit) if more else None
    next_link = None
    if cursor is not None:
        query = page.request.url.include_query_params(cursor=cursor, limit=page.limit).query
        next_link = f"{page.request.url.path}?{query}"
    return {"items": items, "next": next_link, "next_cursor": cursor}


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def _offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        offset = value["o"]
    except (ValueError, TypeError, KeyError, binascii.Error):
        offset = None
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise InputError(
            f"the cursor {cursor[:40]!r} is not one this server gave; pass the `next_cursor` of the "
            "previous page unchanged, or leave it out to start from the first page"
        )
    return offset
