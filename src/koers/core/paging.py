"""Page through long lists without counting a million rows on every request."""

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

# Beyond this many matches a list says "more than 10,000" instead of counting on.
COUNT_CAP = 10_000
PAGE_SIZES = (25, 50, 100)


@dataclass(frozen=True)
class ListPage:
    rows: list[Any]
    number: int
    per_page: int
    total: int
    is_capped: bool

    @property
    def page_count(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.page_count

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.rows else 0

    @property
    def end_index(self) -> int:
        return self.start_index + len(self.rows) - 1 if self.rows else 0

    @property
    def page_range(self) -> list[int]:
        first = max(1, self.number - 2)
        last = min(self.page_count, self.number + 2)
        return list(range(first, last + 1))


def paginate(queryset: QuerySet, *, page: Any, per_page: Any) -> ListPage:
    """Return one page of `queryset`; the count stops at COUNT_CAP."""
    per_page = (
        int(per_page) if str(per_page) in {str(size) for size in PAGE_SIZES} else PAGE_SIZES[1]
    )
    try:
        number = max(1, int(page))
    except (TypeError, ValueError):
        number = 1
    total = queryset.order_by()[: COUNT_CAP + 1].count()
    is_capped = total > COUNT_CAP
    total = min(total, COUNT_CAP)
    last_page = max(1, -(-total // per_page))
    number = min(number, last_page)
    offset = (number - 1) * per_page
    rows = list(queryset[offset : offset + per_page])
    return ListPage(rows=rows, number=number, per_page=per_page, total=total, is_capped=is_capped)
