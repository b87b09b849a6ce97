"""Django's PostgreSQL backend, with a health check that costs no round trip."""

import select

from django.db.backends.postgresql import base
from psycopg.pq import TransactionStatus


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        """Whether the connection still works. Django asks this at the start of every
        request that uses the database (CONN_HEALTH_CHECKS) and sends SELECT 1 to find
        out: a round trip per request. An idle connection that the server closed (a
        restart, pg_terminate_backend, an idle timeout) has something to read, its error
        and the end of the stream, so only then is SELECT 1 sent."""
        connection = self.connection
        if connection is None or connection.closed:
            return False
        if connection.info.transaction_status != TransactionStatus.IDLE:
            return super().is_usable()
        readable, _writable, _failed = select.select([connection.fileno()], [], [], 0)
        return not readable or super().is_usable()
