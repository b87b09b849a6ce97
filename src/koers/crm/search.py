"""Infix search on names, emails and numbers: FTS5 trigram on SQLite, pg_trgm on PostgreSQL.

Both make "part of a word" searches ("ijk" finds "van Dijk") use an index instead of
scanning every row. The index structures are kept outside the migrations because
SQLite drops triggers whenever Django rebuilds a table; `ensure_search_indexes` runs
after every migrate and puts back whatever is missing.
"""

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL

# model table → (columns every word is looked for in, columns only a word that looks like
# an address is looked for in). "akke" should find the Bakkers, not everyone at bakkerij.nl;
# "@bakkerij" or "bakkerij.nl" does.
SEARCHED = {
    "crm_company": (["name", "city", "kvk_number"], ["domain"]),
    "crm_contact": (["first_name", "name_prefix", "last_name"], ["email"]),
}
# Words shorter than a trigram cannot use the index; they are matched by a plain scan.
MIN_INDEXED = 3


def _fts_table(table: str) -> str:
    return f"{table}_search"


def _sqlite_statements(table: str, columns: list[str]) -> list[str]:
    fts = _fts_table(table)
    cols = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    return [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5({cols}, "
        f"content='{table}', content_rowid='id', tokenize='trigram')",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_ai AFTER INSERT ON {table} BEGIN "
        f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_ad AFTER DELETE ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); END",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_au AFTER UPDATE OF {cols} ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); "
        f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END",
    ]


def ensure_search_indexes(using_connection=connection) -> None:
    """Create the search indexes that are missing; rebuild an FTS table that lost its triggers."""
    with using_connection.cursor() as cursor:
        if using_connection.vendor == "sqlite":
            for table, (names, addresses) in SEARCHED.items():
                columns = names + addresses
                fts = _fts_table(table)
                cursor.execute(
                    "SELECT count(*) FROM sqlite_master WHERE name = %s "
                    "OR (type = 'trigger' AND tbl_name = %s AND name LIKE %s)",
                    [fts, table, f"{fts}_%"],
                )
                complete = cursor.fetchone()[0] == 4
                for statement in _sqlite_statements(table, columns):
                    cursor.execute(statement)
                if not complete:
                    cursor.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")
        elif using_connection.vendor == "postgresql":
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            for table, (names, addresses) in SEARCHED.items():
                for column in names + addresses:
                    # The expression matches what Django's icontains sends: UPPER(col::text).
                    cursor.execute(
                        f"CREATE INDEX IF NOT EXISTS {table}_{column}_trgm ON {table} "
                        f"USING gin (UPPER({column}::text) gin_trgm_ops) "
                        f"WHERE deleted_at IS NULL"
                    )


def _is_address(word: str) -> bool:
    return "@" in word or "." in word


def _fts_term(word: str, names: list[str]) -> str:
    phrase = '"' + word.replace('"', '""') + '"'
    return phrase if _is_address(word) else "{" + " ".join(names) + "} : " + phrase


def search_filter(queryset: QuerySet, text: str) -> QuerySet:
    """Keep the rows in which every word of `text` occurs in one of the searched columns."""
    words = text.split()
    if not words:
        return queryset
    table = queryset.model._meta.db_table
    names, addresses = SEARCHED[table]
    long_words = [word for word in words if len(word) >= MIN_INDEXED]
    if connection.vendor == "sqlite" and long_words:
        fts = _fts_table(table)
        queryset = queryset.filter(
            id__in=RawSQL(
                f"SELECT rowid FROM {fts} WHERE {fts} MATCH %s",
                [" AND ".join(_fts_term(word, names) for word in long_words)],
            )
        )
        words = [word for word in words if len(word) < MIN_INDEXED]
    for word in words:
        columns = names + addresses if _is_address(word) else names
        any_column = Q()
        for column in columns:
            any_column |= Q(**{f"{column}__icontains": word})
        queryset = queryset.filter(any_column)
    return queryset
