"""Page through long lists without counting a million rows on every request.

A list page fetches one row more than it shows, which tells whether there is a next
page. Only when there is does the number of matches cost a count, and that count is
asked for separately (the page loads it right after it shows), and stops at COUNT_CAP.
"""

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
    has_next: bool
    # None until counted; exact when the rows run out on this page.
    total: int | None = None
    is_capped: bool = False

    @property
    def page_count(self) -> int | None:
        return None if self.total is None else max(1, -(-self.total // self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.per_page + 1

    @property
    def end_index(self) -> int:
        return self.start_index + self.per_page - 1 if self.has_next else self.total or 0

    @property
    def page_range(self) -> list[int]:
        last = self.page_count or self.number + (1 if self.has_next else 0)
        return list(range(max(1, self.number - 2), min(last, self.number + 2) + 1))


def page_size(value: Any) -> int:
    return int(value) if str(value) in {str(size) for size in PAGE_SIZES} else PAGE_SIZES[1]


# Far beyond any list; keeps the offset a number every database accepts.
MAX_PAGE = 100_000


def page_number(value: Any) -> int:
    try:
        return min(max(1, int(value)), MAX_PAGE)
    except (TypeError, ValueError):
        return 1


def paginate(queryset: QuerySet, *, page: Any, per_page: Any) -> ListPage:
    """Return one page of `queryset`, counting all matches only when this page is the last."""
    per_page, number = page_size(per_page), page_number(page)
    offset = (number - 1) * per_page
    rows = list(queryset[offset : offset + per_page + 1])
    if not rows and number > 1:  # past the end, e.g. after a filter narrowed the list
        return paginate(queryset, page=1, per_page=per_page)
    has_next = len(rows) > per_page
    total = None if has_next else offset + len(rows)
    return ListPage(
        rows=rows[:per_page], number=number, per_page=per_page, has_next=has_next, total=total
    )


def count_page(queryset: QuerySet, *, page: Any, per_page: Any) -> ListPage:
    """Return the page's position among all matches, counted up to COUNT_CAP, without rows."""
    per_page, number = page_size(per_page), page_number(page)
    total = queryset.order_by()[: COUNT_CAP + 1].count()
    return ListPage(
        rows=[],
        number=number,
        per_page=per_page,
        has_next=number * per_page < total,
        total=min(total, COUNT_CAP),
        is_capped=total > COUNT_CAP,
    )
