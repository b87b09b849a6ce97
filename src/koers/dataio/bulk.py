"""Set-based writes for imports: many rows per statement, never one ORM save per row.

PostgreSQL gets its rows by COPY, SQLite by one prepared INSERT run with executemany; ids
are taken in advance (from the sequence, or after the largest under SQLite's write lock)
so the audit trail can name each new record in the same transaction.
"""

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection, models
from django.db.models.expressions import RawSQL
from django.utils import timezone

from koers.core.models import AuditEntry, User


def among(queryset: models.QuerySet, field: str, values) -> models.QuerySet:
    """`queryset.filter(<field>__in=values)` for thousands of text values, as one parameter.

    Django would bind every value on its own, which costs more than the query itself.
    """
    values = list(values)
    if connection.vendor == "postgresql":
        rows = RawSQL("SELECT unnest(%s::text[])", [values])
    else:
        rows = RawSQL("SELECT value FROM json_each(%s)", [json.dumps(values)])
    return queryset.filter(**{f"{field}__in": rows})


def _take_ids(model: type[models.Model], count: int) -> list[int]:
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, count],
            )
            return [row[0] for row in cursor.fetchall()]
        # Inside the import's transaction SQLite holds the write lock (BEGIN IMMEDIATE), so
        # nobody else can take these ids meanwhile.
        # AUTOINCREMENT tables never reuse an id, also not one of a row erased since:
        # sqlite_sequence remembers the largest ever given.
        cursor.execute(
            f"SELECT MAX(COALESCE((SELECT MAX(id) FROM {connection.ops.quote_name(table)}), 0), "  # noqa: S608
            "COALESCE((SELECT seq FROM sqlite_sequence WHERE name = %s), 0))",
            [table],
        )
        start = cursor.fetchone()[0] + 1
        return list(range(start, start + count))


def _json(value: Any) -> str:
    """json.dumps(value); the empty dict most records hold (no custom fields) costs nothing."""
    if not value and value.__class__ in (dict, list):
        return "{}" if value.__class__ is dict else "[]"
    return json.dumps(value)


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return _json(value)
    return value


def _sqlite_rows(model, columns: Sequence[str], ids: list[int], rows: list[list[Any]]):
    """Rows as sqlite3 takes them; only dates, times and JSON need turning into text."""
    typed = [
        index
        for index, column in enumerate(columns, start=1)
        if isinstance(
            model._meta.get_field(column), models.DateField | models.JSONField
        )  # DateTimeField is a DateField
    ]
    adapted: dict[Any, Any] = {}  # a batch shares its timestamps: adapt each once
    json_types = (dict, list)
    for pk, row in zip(ids, rows, strict=True):
        record = [pk, *row]
        for index in typed:
            value = record[index]
            if value is not None:
                if isinstance(value, json_types):
                    record[index] = _json(value)
                else:
                    text = adapted.get(value)
                    if text is None:
                        text = adapted[value] = _sqlite_value(value)
                    record[index] = text
        yield record


def insert(model: type[models.Model], columns: Sequence[str], rows: list[list[Any]]) -> list[int]:
    """Insert rows (values in the order of `columns`, attnames) and return their new ids."""
    if not rows:
        return []
    ids = _take_ids(model, len(rows))
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(column) for column in ("id", *columns))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            jsonish = [
                index
                for index, column in enumerate(columns, start=1)
                if isinstance(model._meta.get_field(column), models.JSONField)
            ]
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for pk, row in zip(ids, rows, strict=True):
                    record = [pk, *row]
                    for index in jsonish:
                        record[index] = _json(record[index])
                    copy.write_row(record)
        else:
            marks = ", ".join(["%s"] * (len(columns) + 1))
            cursor.executemany(
                f"INSERT INTO {table} ({names}) VALUES ({marks})",  # noqa: S608
                _sqlite_rows(model, columns, ids, rows),
            )
    return ids


def update(model: type[models.Model], columns: Sequence[str], rows: list[list[Any]]) -> None:
    """Set `columns` of each row; a row is [id, *values in the order of columns]."""
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    assignments = ", ".join(f"{connection.ops.quote_name(column)} = %s" for column in columns)
    # Lists and dicts go in as JSON (jsonb on PostgreSQL, text on SQLite).
    jsonish = {
        index
        for index, column in enumerate(columns)
        if isinstance(model._meta.get_field(column), models.JSONField)
    }
    if jsonish:
        rows = [
            [
                pk,
                *(
                    connection.ops.adapt_json_value(value, None) if index in jsonish else value
                    for index, value in enumerate(values)
                ),
            ]
            for pk, *values in rows
        ]
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET {assignments} WHERE id = %s",  # noqa: S608
            [
                [*(map(_sqlite_value, values) if connection.vendor == "sqlite" else values), pk]
                for pk, *values in rows
            ],
        )


AUDIT_COLUMNS = (
    "at",
    "actor_id",
    "action",
    "content_type_id",
    "object_id",
    "object_repr",
    "changes",
)


def audit(
    *,
    actor: User,
    action: str,
    model: type[models.Model],
    entries: list[tuple[int, str, dict[str, list[Any]]]],
) -> None:
    """Record (id, name, changes) of many records of one model in the audit trail."""
    content_type = ContentType.objects.get_for_model(model).pk
    now = timezone.now()
    insert(
        AuditEntry,
        AUDIT_COLUMNS,
        [
            [now, actor.pk, action, content_type, pk, name[:200], changes]
            for pk, name, changes in entries
        ],
    )
