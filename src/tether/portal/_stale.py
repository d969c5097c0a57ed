"""No lost updates in the portal: the ETag a form was loaded with, and the banner of a stale save.

Every edit form carries, in a hidden field (:data:`ETAG_FIELD`), the ETag of the resource as the
page showed it; the handler passes it to the services as ``if_match``. When someone else saved in
between, the services refuse with :class:`~tether.errors.PreconditionFailed` and the handler
shows the same page again with the user's input kept and a :class:`Stale` banner naming who
changed it and when. That page's form carries the *new* ETag, so saving again is the user's
explicit choice to overwrite, never a silent retry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from tether import services
from tether.errors import PreconditionFailed

__all__ = ["ETAG_FIELD", "Stale", "etag_of", "posted_etag"]

ETAG_FIELD = "etag"


class _Saved(Protocol):
    """What the services' info objects share: an id and the time of their last save."""

    @property
    def id(self) -> str: ...

    @property
    def updated_at(self) -> datetime | None: ...


def etag_of(info: _Saved) -> str:
    """The ETag of a connector, connection or flow as the services just returned it."""
    return services.resource_etag(info.id, info.updated_at)


def posted_etag(form: Any) -> str | None:
    """The ETag a posted form (or the field's value itself) carries.

    ``None`` for a form without one: saved unchecked, as the API does without ``If-Match``.
    """
    value = form if isinstance(form, str) else form.get(ETAG_FIELD) if form is not None else None
    return (value.strip() or None) if isinstance(value, str) else None


@dataclass(frozen=True, slots=True)
class Stale:
    """A save refused because the resource changed since the page was loaded.

    ``etag`` is the current one, which the re-shown form carries; ``reload_url`` is the page that
    shows the other person's version.
    """

    who: str
    when: str | None
    etag: str
    reload_url: str

    @classmethod
    def from_error(cls, exc: PreconditionFailed, *, reload_url: str) -> Stale:
        detail = exc.detail
        who = detail.get("changed_by_name") or detail.get("changed_by") or "someone else"
        return cls(
            who=str(who),
            when=_readable_time(detail.get("changed_at")),
            etag=str(detail.get("etag") or ""),
            reload_url=reload_url,
        )

    @property
    def message(self) -> str:
        at = f" at {self.when}" if self.when else ""
        return (
            f"Changed by {self.who}{at} since you loaded it — reload to see their version, "
            "or save again to overwrite."
        )


def _readable_time(value: Any) -> str | None:
    """``2026-12-03T22:41:05+00:00`` → ``2026-12-03 22:41:05 UTC`` (naive times are UTC here)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")
