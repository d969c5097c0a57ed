"""``x-ms-pageable``: following ``nextLink`` and merging the pages' item arrays.

Written as a generator (httpx ``Auth.auth_flow`` style): it yields the URL of the next page
and receives that page's parsed body, so the rules (where the link is, when to stop, how
pages merge) are tested without a network, and the runtime owns the sending.

Bounded twice: ``max_pages`` and ``max_items``. When a bound stops it, the result keeps the
link it did not follow, so a caller can resume, and says so in a warning.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import httpx

from tether.errors import ConfigurationError

__all__ = ["DEFAULT_PAGING", "PagedBody", "Paging", "follow_pages"]

DEFAULT_ITEM_NAME = "value"


@dataclass(frozen=True)
class Paging:
    """How far to follow next links: at most ``max_pages`` pages and ``max_items`` items in all."""

    max_pages: int = 100
    max_items: int = 100_000

    def __post_init__(self) -> None:
        if self.max_pages < 1 or self.max_items < 1:
            raise ConfigurationError("paging limits must be at least 1")


DEFAULT_PAGING = Paging()


@dataclass
class PagedBody:
    """The merged body, how many pages made it, and why paging stopped early (if it did)."""

    body: Any
    pages: int = 1
    warnings: list[str] = field(default_factory=list)


def follow_pages(
    first: Any, url: httpx.URL, next_link_name: str, paging: Paging, *, item_name: str = DEFAULT_ITEM_NAME
) -> Generator[httpx.URL, Any, PagedBody]:
    """Yield next-page URLs, receive page bodies, return the first page with all items merged."""
    if not isinstance(first, dict) or not isinstance(first.get(item_name), list):
        return PagedBody(first)
    items: list[Any] = list(first[item_name])
    body: dict[str, Any] = first
    pages = 1
    warnings: list[str] = []
    link = body.get(next_link_name)
    while isinstance(link, str) and link:
        if pages >= paging.max_pages:
            warnings.append(
                f"stopped after {pages} pages (max_pages); '{next_link_name}' holds the next page"
            )
            break
        if len(items) >= paging.max_items:
            warnings.append(
                f"stopped at {len(items)} items (max_items); '{next_link_name}' holds the next page"
            )
            break
        try:
            url = url.join(link)
        except httpx.InvalidURL:
            warnings.append(f"stopped: '{next_link_name}' is not a valid URL")
            break
        page = yield url
        if not isinstance(page, dict) or not isinstance(page.get(item_name), list):
            warnings.append(f"stopped: page {pages + 1} has no '{item_name}' array")
            link = None
            break
        pages += 1
        items.extend(page[item_name])
        body = page
        link = page.get(next_link_name)
    if len(items) > paging.max_items:
        del items[paging.max_items :]
    merged = {**first, item_name: items}
    if isinstance(link, str) and link and warnings:
        merged[next_link_name] = link
    else:
        merged.pop(next_link_name, None)
    return PagedBody(merged, pages, warnings)
