"""Django's PostgreSQL backend, with a client-side bound on every round trip.

`connect_timeout` bounds connecting and `statement_timeout` bounds a query the
server is running, but a server that stops answering altogether (a frozen
process, a dead host behind a live TCP stack) enforces neither: a query on an
open connection, or Django's own health check on a reused one, would wait
until gunicorn kills the worker (issue 11: every request and /healthz hung
30 s). psycopg can bound each wait on the socket; Django gives no hook to pick
the connection class, so this backend hands it psycopg with one that does.

OPTIONS["round_trip_timeout"] (seconds; settings derive it from the statement
timeout) is the bound; on expiry the connection is closed and the request gets
an OperationalError, which blog/degrade.py turns into a 503.
"""

import psycopg
from django.db.backends.postgresql import base
from psycopg import errors


class BoundedConnection(psycopg.Connection):
    round_trip_timeout: float | None = None

    def wait(self, gen, interval=0.1, timeout=None):
        if timeout is None:
            timeout = self.round_trip_timeout
        try:
            return super().wait(gen, interval=interval, timeout=timeout)
        except errors._WaitTimeout as error:
            # The protocol stopped half way: this connection cannot be reused.
            self.pgconn.finish()
            raise errors.OperationalError(
                f"the database did not answer within {timeout} s"
            ) from error


class BoundedPsycopg:
    """The psycopg module, except that connect() makes bounded connections."""

    connect = BoundedConnection.connect

    def __getattr__(self, name):
        return getattr(psycopg, name)


class DatabaseWrapper(base.DatabaseWrapper):
    Database = BoundedPsycopg()

    def get_connection_params(self):
        params = super().get_connection_params()
        self.round_trip_timeout = params.pop("round_trip_timeout", None)
        return params

    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        connection.round_trip_timeout = self.round_trip_timeout
        return connection
