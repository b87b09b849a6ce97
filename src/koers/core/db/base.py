"""Django's PostgreSQL backend, with a health check that costs no round trip while the
connection is busy, and prepared statements planned for their values."""

import select
import time

from django.db.backends.postgresql import base
from psycopg.pq import TransactionStatus

# A connection used this recently is checked by looking at its socket; one idle for longer
# is asked, as Django does: a connection a firewall or NAT dropped without a word (after
# minutes of silence, usually) looks fine from here.
BUSY_SECONDS = 5.0


class DatabaseWrapper(base.DatabaseWrapper):
    checked_at = float("-inf")

    def init_connection_state(self):
        super().init_connection_state()
        if self.connection.prepare_threshold is not None:
            # A statement psycopg prepared is planned for its values on every run, as one
            # sent as text is: a plan made once for any value would not know how rare a
            # search term is, or how few records an owner has. Only the parsing is saved.
            with self.connection.cursor() as cursor:
                cursor.execute("SET plan_cache_mode = force_custom_plan")
            if not self.get_autocommit():
                self.connection.commit()

    def is_usable(self) -> bool:
        """Whether the connection still works. Django asks at the start of every request
        that uses the database (CONN_HEALTH_CHECKS) and sends SELECT 1 to find out: a
        round trip per request. An idle connection that the server closed (a restart,
        pg_terminate_backend, an idle timeout) has something to read, its error and the
        end of the stream; so a connection used in the last seconds is asked only then."""
        connection, now = self.connection, time.monotonic()
        if connection is None or connection.closed:
            return False
        busy, self.checked_at = now - self.checked_at < BUSY_SECONDS, now
        if not busy or connection.info.transaction_status != TransactionStatus.IDLE:
            return super().is_usable()
        poll = select.poll()  # select() cannot watch a descriptor above 1023
        poll.register(connection.fileno(), select.POLLIN)
        return not poll.poll(0) or super().is_usable()
