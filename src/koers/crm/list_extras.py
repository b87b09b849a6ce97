"""Columns, filters and sorts that apps higher up add to the contact list.

crm owns the list; scoring adds a contact's priority (fit grade, engagement level and the
predicted chance to become a customer) as ORM lookups and annotations, without crm
importing it. Every filter and sort must be one an index can serve: the list is read
with a million contacts.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet


@dataclass(frozen=True)
class ListFilter:
    name: str  # the query parameter
    label: str
    # (value, label) pairs; the first is ("", "Any …").
    choices: Callable[[], list[tuple[str, str]]]
    # The condition a chosen value puts on the rows.
    condition: Callable[[str], Q]


@dataclass(frozen=True)
class ListSort:
    key: str  # the list's `sort` parameter, such as "-probability"
    order_by: tuple[str, ...]
    # Only these rows take part in the order: an inner join the database can walk in index
    # order (rows without a value would otherwise have to be sorted in among the rest).
    rows: Q = field(default_factory=Q)
    # Whether the sort has anything to order now; the header offers it only then.
    available: Callable[[], bool] = lambda: True


@dataclass(frozen=True)
class ListColumn:
    name: str
    label: str
    template: str  # renders one cell, with `record` and `column` in its context
    sort: str = ""  # the ListSort its header orders by
    annotations: Callable[[], dict[str, Any]] = dict  # what the cell shows, per row
    title: str = ""  # what the header's sort link does, for its tooltip


@dataclass
class Extras:
    filters: dict[str, ListFilter] = field(default_factory=dict)
    sorts: dict[str, ListSort] = field(default_factory=dict)
    columns: dict[str, ListColumn] = field(default_factory=dict)


_lists: dict[str, Extras] = {"contact": Extras()}


def register_filter(list_name: str, item: ListFilter) -> None:
    _lists[list_name].filters[item.name] = item


def register_sort(list_name: str, item: ListSort) -> None:
    _lists[list_name].sorts[item.key] = item


def register_column(list_name: str, item: ListColumn) -> None:
    _lists[list_name].columns[item.name] = item


def chosen(list_name: str, params: Mapping[str, str]) -> dict[str, str]:
    """The registered filters and sort a request asks for, with values that fit."""
    extras = _lists[list_name]
    found = {}
    for name, item in extras.filters.items():
        value = params.get(name, "")
        if value and value in {choice for choice, _label in item.choices()}:
            found[name] = value
    sort = params.get("sort", "")
    if sort in extras.sorts:
        found["sort"] = sort
    return found


def applied(list_name: str, rows: QuerySet, chosen: Mapping[str, str]) -> QuerySet:
    """The rows with the chosen filters and every column's annotations."""
    extras = _lists[list_name]
    for name, value in chosen.items():
        if name in extras.filters:
            rows = rows.filter(extras.filters[name].condition(value))
    for column in extras.columns.values():
        rows = rows.annotate(**column.annotations())
    return rows


def ordered(list_name: str, rows: QuerySet, sort: str) -> QuerySet | None:
    """The rows in a registered sort's order, or None when `sort` is not one."""
    item = _lists[list_name].sorts.get(sort)
    if item is None:
        return None
    return rows.filter(item.rows).order_by(*item.order_by)


def page_context(list_name: str, chosen: Mapping[str, str]) -> dict[str, Any]:
    """The extra filters (with their chosen values) and columns, for the list's template."""
    extras = _lists[list_name]
    return {
        "extra_filters": [
            {
                "name": item.name,
                "label": item.label,
                "choices": item.choices(),
                "value": chosen.get(item.name, ""),
            }
            for item in extras.filters.values()
        ],
        "extra_columns": [
            {
                "name": column.name,
                "label": column.label,
                "template": column.template,
                "title": column.title,
                "sort": column.sort
                if column.sort in extras.sorts and extras.sorts[column.sort].available()
                else "",
            }
            for column in extras.columns.values()
        ],
    }
