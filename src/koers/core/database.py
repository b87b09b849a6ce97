"""Keep the database's query planner informed."""

from django.db import connection


def database_optimize() -> None:
    """Refresh the planner's statistics.

    SQLite keeps none unless asked, and without them it sorts a team's 300,000 contacts
    to show 50 instead of walking the name index. A full ANALYZE of a million contacts
    takes about a second; a sampled one (analysis_limit) misjudges columns with few
    values, such as the owner. PostgreSQL's autovacuum analyzes on its own; an explicit
    ANALYZE after bulk work saves waiting for it.
    """
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
