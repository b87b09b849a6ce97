"""Pages of the flat lists (contacts, companies, events) written as JSON by PostgreSQL.

Read as 50 rows of two dozen values, a page costs Python more than anything else in the
call: psycopg loads each value, Django turns the rows into dicts, the encoder writes them
out again. On PostgreSQL the database writes the page's JSON instead (json_agg of the
rows, dates and times as Django's encoder writes them), and Python passes the text on.

The query the app's selector builds (what the user may see, the filters) is compiled once
and kept, under the filters and everything of the user it can depend on (`whose`): the
flat kinds' selectors build it from those alone, reading nothing, so the text is the same
every time. The cursor, the order and the page's size are added here, as cursor_page does.
SQLite keeps the Python path; test_api_pages holds both to the same answers.
"""

import json
from collections.abc import Callable
from functools import lru_cache

import psycopg
from django.db import connection, models

from koers.api.common import MAX_LIMIT, cursor_of, cursor_values, sort_fields
from koers.core.models import User
from koers.core.selectors import visibility_scope

# Compiled selector queries kept per process; a busy server has a few per token.
KEPT = 1000
_compiled: dict[tuple, tuple[str, tuple, type[models.Model]]] = {}

# Kinds of field whose value PostgreSQL's JSON writes as Python's encoder does.
_AS_IS = frozenset(
    {
        "AutoField", "BigAutoField", "SmallAutoField", "IntegerField", "BigIntegerField",
        "SmallIntegerField", "PositiveIntegerField", "PositiveBigIntegerField",
        "PositiveSmallIntegerField", "CharField", "TextField", "BooleanField", "ForeignKey",
        "OneToOneField", "JSONField",
    }
)  # fmt: skip


def available() -> bool:
    return connection.vendor == "postgresql"


def _value(column: str, field: models.Field) -> str | None:
    kind = field.get_internal_type()
    if kind in _AS_IS:
        return column
    if kind == "DateField":
        return f"to_char({column}, 'YYYY-MM-DD')"
    if kind == "DateTimeField":
        # As DjangoJSONEncoder: UTC as Z, milliseconds (cut, not rounded) only when there
        # is a fraction of a second.
        utc = f"({column} AT TIME ZONE 'UTC')"
        return (
            f"CASE WHEN date_trunc('second', {column}) = {column} "
            f'THEN to_char({utc}, \'YYYY-MM-DD"T"HH24:MI:SS"Z"\') '
            f'ELSE to_char({utc}, \'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"\') END'
        )
    return None


@lru_cache
def _row_json(model: type[models.Model], fields: tuple[str, ...]) -> str | None:
    """The JSON object of a page row `p`: its values as a row, which json_agg writes with
    their names (cheaper than json_build_object); None when a field's JSON would differ."""
    columns = []
    for name in fields:
        value = _value(f'p."{name}"', model._meta.get_field(name))
        if value is None:
            return None
        columns.append(f'{value} AS "{name}"')
    return f"(SELECT r FROM (SELECT {', '.join(columns)}) r)"  # noqa: S608 (our own columns)


def whose(user: User) -> tuple:
    """What a selector's query may take from the user: who they are, their role, team and
    what the role sees. A change of any of them makes another key, so another query."""
    return user.pk, user.role, user.team_id, visibility_scope(user=user)


def selector_sql(key: tuple, build: Callable[[], models.QuerySet]) -> tuple[str, tuple, type]:
    """The compiled query of `build()` (unordered), kept under `key`."""
    found = _compiled.get(key)
    if found is None:
        queryset = build().order_by()
        sql, params = queryset.query.sql_with_params()
        if len(_compiled) >= KEPT:
            _compiled.clear()
        found = _compiled[key] = (sql, tuple(params), queryset.model)
    return found


def page_query(
    selected: tuple[str, tuple, type],
    *,
    fields: tuple[str, ...],
    order: tuple[str, ...],
    cursor: str,
    limit: int,
) -> tuple[str, list] | None:
    """The query of one page of the selector's rows in `order` after `cursor`: its JSON,
    the rows there were (one more than `limit` if another page follows) and the sort values
    of the page's last row. None when PostgreSQL cannot write it as the Python path does."""
    sql, params, model = selected
    row_json = _row_json(model, fields)
    sorted_by = sort_fields(order)
    if row_json is None or any(name not in fields for name, _desc in sorted_by):
        return None
    where, after = "", []
    if cursor:
        typed = cursor_values(model, sorted_by, cursor)
        # (a > x) or (a = x and b > y) …, per direction: as cursor_page's filter.
        steps = []
        for index, (name, descending) in enumerate(sorted_by):
            equal = [f'b."{earlier}" = %s' for earlier, _desc in sorted_by[:index]]
            steps.append(" AND ".join([*equal, f'b."{name}" {"<" if descending else ">"} %s']))
            after += [*typed[:index], typed[index]]
        where = "WHERE " + " OR ".join(f"({step})" for step in steps)
    last = ", ".join(
        f'(array_agg(p."{name}") FILTER (WHERE p.n = %s))[1]' for name, _desc in sorted_by
    )
    page = (
        f"SELECT coalesce(json_agg({row_json} ORDER BY p.n) FILTER (WHERE p.n <= %s), "  # noqa: S608
        f"'[]')::text, count(*), {last} "
        f"FROM (SELECT i.*, row_number() OVER (ORDER BY {_ordering('i', sorted_by)}) AS n FROM "
        f"(SELECT * FROM ({sql}) b {where} ORDER BY {_ordering('b', sorted_by)} LIMIT %s) i) p"
    )
    return page, [limit, *[limit] * len(sorted_by), *params, *after, limit + 1]


def _ordering(alias: str, sorted_by: list[tuple[str, bool]]) -> str:
    return ", ".join(f'{alias}."{name}" {"DESC" if desc else "ASC"}' for name, desc in sorted_by)


def page_json(selected: tuple[str, tuple, type], *, fields, order, cursor: str, limit: int):
    """The JSON of one page ({"results": […], "next": cursor}), as cursor_page and the
    Python path answer it; None when PostgreSQL cannot write it so."""
    limit = max(1, min(limit, MAX_LIMIT))
    query = page_query(selected, fields=fields, order=order, cursor=cursor, limit=limit)
    if query is None:
        return None
    results, count, *last_values = _fetch(*query)
    next_cursor = cursor_of(last_values) if count > limit else None
    return f'{{"results": {results}, "next": {json.dumps(next_cursor)}}}'


def _fetch(sql: str, params: list) -> tuple:
    """The one row of `sql`, as a prepared statement: PostgreSQL parses the page's long
    query once per connection instead of on every call, which is a sixth of its work for a
    page (it still plans it for its values: koers.core.db)."""
    # Django's cursors bind parameters on the client, which cannot prepare. This one binds
    # on the server: psycopg prepares a query once it has been sent prepare_threshold
    # times on the connection (settings.py; never when that is None), and again after a
    # rollback or a failure. Otherwise as connection.cursor(): checked, connected, logged
    # and errors wrapped.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    wrap = connection.make_debug_cursor if connection.queries_logged else connection.make_cursor
    with wrap(psycopg.Cursor(connection.connection)) as db:
        db.execute(sql, params)
        return db.fetchone()
