"""The timeline: one chronological list of everything on a company, a contact or a deal.

activities owns it and its registry of sources. Each source (activities, stage changes,
and later web visits, email opens, quote views) gives its newest entries before a cursor;
the timeline merges them. Every source reads an index in (record, time) order, so a page
costs one short range scan per source however long the history is.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from django.db.models import Q
from django.utils.dateparse import parse_datetime

from koers.core.models import User

Subject = Literal["company", "contact", "deal"]
PAGE_SIZE = 25


@dataclass(frozen=True)
class Cursor:
    """Where a page ended: entries are ordered by (at, source, id), newest first."""

    at: datetime
    source: str
    id: int

    def encode(self) -> str:
        return f"{self.at.isoformat()}~{self.source}~{self.id}"

    @classmethod
    def decode(cls, text: str) -> "Cursor | None":
        """The cursor in a `before` parameter, or None when it is not one."""
        parts = text.split("~")
        if len(parts) != 3 or not parts[2].isdigit():
            return None
        try:
            at = parse_datetime(parts[0])
        except ValueError:
            return None
        if at is None or at.tzinfo is None:
            return None
        return cls(at, parts[1][:30], int(parts[2]))


@dataclass(frozen=True)
class Entry:
    at: datetime
    source: str
    id: int
    kind: str  # what the kind filter matches
    template: str  # draws `entry.item`
    item: Any

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.at, self.source, self.id)


@dataclass(frozen=True)
class Source:
    """A kind of thing that appears on timelines.

    `kinds` gives the (key, label) pairs the filter offers; `entries` returns at most
    `limit` entries of the subject, newest first, of the given kinds (None: all), older
    than the cursor.
    """

    name: str
    kinds: Callable[[], list[tuple[str, str]]]
    entries: Callable[..., list[Entry]]


_sources: dict[str, Source] = {}


def register(source: Source) -> None:
    _sources[source.name] = source


def before_q(cursor: Cursor | None, source: str, *, at: str = "at", pk: str = "id") -> Q:
    """The rows of `source` that come after the cursor in the timeline's order."""
    if cursor is None:
        return Q()
    if source < cursor.source:
        return Q(**{f"{at}__lte": cursor.at})
    if source > cursor.source:
        return Q(**{f"{at}__lt": cursor.at})
    # The outer `<=` lets the database seek the (record, time) index to the cursor.
    return Q(**{f"{at}__lte": cursor.at}) & (
        Q(**{f"{at}__lt": cursor.at}) | Q(**{at: cursor.at, f"{pk}__lt": cursor.id})
    )


def kind_choices() -> list[tuple[str, str]]:
    return [choice for source in _sources.values() for choice in source.kinds()]


@dataclass(frozen=True)
class Page:
    entries: list[Entry]
    next_cursor: Cursor | None


def timeline_page(
    *,
    user: User,
    subject: Subject,
    record_id: int,
    kinds: set[str] | None = None,
    before: Cursor | None = None,
    limit: int = PAGE_SIZE,
) -> Page:
    """One page of a record's timeline. The caller has checked the user may see the record."""
    merged: list[Entry] = []
    for source in _sources.values():
        own = {key for key, _label in source.kinds()}
        wanted = None if kinds is None else own & kinds
        if wanted == set():
            continue
        merged += source.entries(
            user=user,
            subject=subject,
            record_id=record_id,
            kinds=wanted,
            before=before,
            limit=limit + 1,
        )
    merged.sort(key=lambda entry: (entry.at, entry.source, entry.id), reverse=True)
    page = merged[:limit]
    more = len(merged) > limit
    return Page(page, page[-1].cursor if more and page else None)
