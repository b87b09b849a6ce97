"""koers.core.db: PostgreSQL's health check without a round trip while the connection is
busy, and prepared statements planned for their values. Against the PostgreSQL server of
the test machine whichever database the suite runs on, as the Redis cache's tests use its
Redis."""

import select
import time

import dj_database_url
import psycopg
import pytest
from django.db import connections

from koers.core.db.base import DatabaseWrapper

SERVER = "postgres://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def probe(db):
    settings = dj_database_url.parse(SERVER, engine="koers.core.db", conn_health_checks=True)
    settings["OPTIONS"] = {"prepare_threshold": 5}  # as settings.py sets it
    # Django's defaults for the keys not given (its settings want a "default" among them).
    filled = connections.configure_settings({"default": settings})["default"]
    wrapper = DatabaseWrapper(filled, "probe")
    wrapper.ensure_connection()
    yield wrapper
    wrapper.close()


def _last_query(probe) -> str:
    """What the probe's connection sent last, as the server saw it."""
    pid = probe.connection.info.backend_pid
    with psycopg.connect(SERVER, autocommit=True) as other:
        return other.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()[
            0
        ]


def test_a_busy_connection_is_usable_without_a_query(probe):
    assert probe.is_usable()  # the first check asks
    probe.connection.execute("SELECT 2")

    assert probe.is_usable()

    assert _last_query(probe) == "SELECT 2"


def test_a_connection_idle_for_a_while_is_asked(probe):
    probe.checked_at = time.monotonic() - 60
    probe.connection.execute("SELECT 2")

    assert probe.is_usable()

    assert _last_query(probe) == "SELECT 1"


def test_a_busy_connection_the_server_closed_is_not_usable(probe):
    assert probe.is_usable()
    pid = probe.connection.info.backend_pid
    with psycopg.connect(SERVER, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    # The server's goodbye (its error, then the end of the stream) is on its way.
    select.select([probe.connection.fileno()], [], [], 10)

    assert not probe.is_usable()


def test_prepared_statements_are_planned_for_their_values(probe):
    setting = probe.connection.execute("SHOW plan_cache_mode").fetchone()[0]
    assert setting == "force_custom_plan"
