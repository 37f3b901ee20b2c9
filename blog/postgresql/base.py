"""Django's PostgreSQL backend, with a client-side bound on every round trip,
no health-check round trip, and prepared validators.

**Bounded round trips.** `connect_timeout` bounds connecting and
`statement_timeout` bounds a query the server is running, but a server that
stops answering altogether (a frozen process, a dead host behind a live TCP
stack) enforces neither: a query on an open connection would wait until
gunicorn kills the worker (issue 11: every request and /healthz hung 30 s).
psycopg can bound each wait on the socket; Django gives no hook to pick the
connection class, so this backend hands it psycopg with one that does.
OPTIONS["round_trip_timeout"] (seconds; settings derive it from the statement
timeout) is the bound; on expiry the connection is closed and the request gets
an OperationalError, which blog/degrade.py turns into a 503.

**Health checks without the round trip.** With CONN_HEALTH_CHECKS, Django
sends `SELECT 1` before the first query of every request on a reused
connection, so that one left dead by a database restart is replaced instead
of failing the request (issue 11). That is a round trip on every request,
cached pages included (issue 8). Here the first query of the request goes
ahead instead, and if it finds the connection dead, it runs once more on a new
one. Only reads are retried (a write whose answer was lost may have been
applied); a request whose first statement is a write, opens a transaction or
a server-side cursor gets Django's check first, as before.

**Prepared statements.** `prepared_cursor()` binds parameters on the server,
so psycopg prepares each statement it runs after OPTIONS["prepare_threshold"]
executions (default 5 here; None turns it off, for a pooler that cannot keep
prepared statements) and PostgreSQL stops planning it again: the validators
and the compiled render-path queries (blog/compiled.py). Other cursors keep
Django's client-side binding: psycopg never prepares what a ClientCursor
runs, so Django's `prepare_threshold` alone prepares nothing, and its
`server_side_binding` would bind every ORM query on the server (Django warns
that some, e.g. parameters grouped by, then fail). Prepared statements live
as long as the connection (CONN_MAX_AGE): each new one prepares its shapes
again after a few runs, a few per page kind, within psycopg's 100 per
connection.
"""

import logging

import psycopg
from django.db import InterfaceError, OperationalError
from django.db.backends.postgresql import base
from django.db.backends.utils import CursorWrapper
from psycopg import errors
from psycopg.pq import Format

BINARY, TEXT = Format.BINARY, Format.TEXT
TIMESTAMPTZ_OID = base.TIMESTAMPTZ_OID

logger = logging.getLogger(__name__)

PREPARE_THRESHOLD = 5


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


def _is_read(sql: str) -> bool:
    return sql.lstrip()[:6].upper() == "SELECT"


class FirstQueryRetried:
    """A cursor wrapper whose first statement in a request, on a connection
    nobody has checked yet (`DatabaseWrapper.unchecked`), gets another try on
    a new connection when it finds this one dead."""

    def _execute(self, sql, params, *ignored_wrapper_args):
        run = super()._execute
        if not self.db.unchecked:
            return run(sql, params, *ignored_wrapper_args)
        self.db.unchecked = False
        if not _is_read(sql):
            self._check()
            return run(sql, params, *ignored_wrapper_args)
        try:
            return run(sql, params, *ignored_wrapper_args)
        except (OperationalError, InterfaceError):
            if self.db.in_atomic_block or not self.db.is_lost():
                raise
            logger.info("Database connection lost; trying again on a new one")
            self._reconnect()
        return run(sql, params, *ignored_wrapper_args)

    def _executemany(self, sql, param_list, *ignored_wrapper_args):
        if self.db.unchecked:
            self.db.unchecked = False
            self._check()
        return super()._executemany(sql, param_list, *ignored_wrapper_args)

    def _check(self):
        """Django's health check, for what cannot be run twice."""
        if not self.db.is_usable():
            self._reconnect()

    def _reconnect(self):
        self.db.close()
        self.db.ensure_connection()
        with self.db.wrap_database_errors:
            self.cursor = self.db.raw_cursor_like(self.cursor)


class RetryingCursorWrapper(FirstQueryRetried, CursorWrapper):
    pass


class RetryingCursorDebugWrapper(FirstQueryRetried, base.CursorDebugWrapper):
    pass


class DatabaseWrapper(base.DatabaseWrapper):
    Database = BoundedPsycopg()
    # The connection serves a new request and nothing has checked it yet.
    unchecked = False

    def get_connection_params(self):
        params = super().get_connection_params()
        self.round_trip_timeout = params.pop("round_trip_timeout", None)
        if "prepare_threshold" not in self.settings_dict["OPTIONS"]:
            params["prepare_threshold"] = PREPARE_THRESHOLD
        return params

    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        connection.round_trip_timeout = self.round_trip_timeout
        return connection

    def connect(self):
        self.unchecked = False
        super().connect()

    def close_if_health_check_failed(self):
        """Instead of Django's `SELECT 1`: mark the connection unchecked, so
        its first statement is retried if it turns out dead (see above)."""
        if (
            self.pool
            or self.connection is None
            or not self.health_check_enabled
            or self.health_check_done
        ):
            return
        self.health_check_done = True
        if self.connection.closed:  # known dead: no need to ask
            self.close()
        else:
            self.unchecked = True

    def is_lost(self) -> bool:
        return self.connection is None or self.connection.closed

    def check_now(self):
        """Django's health check, for the unchecked connection of a request
        whose first use cannot be retried."""
        self.close_if_health_check_failed()
        if self.unchecked:
            self.unchecked = False
            if not self.is_usable():
                self.close()

    def set_autocommit(
        self, autocommit, force_begin_transaction_with_broken_autocommit=False
    ):
        # A transaction's first statement cannot be retried on a new connection.
        if not self.in_atomic_block:
            self.check_now()
        super().set_autocommit(
            autocommit, force_begin_transaction_with_broken_autocommit
        )

    def _cursor(self, name=None):
        if name is not None:  # a server-side cursor: not retried
            self.check_now()
        return super()._cursor(name)

    def make_cursor(self, cursor):
        return RetryingCursorWrapper(cursor, self)

    def make_debug_cursor(self, cursor):
        return RetryingCursorDebugWrapper(cursor, self)

    def raw_cursor_like(self, cursor):
        """A new psycopg cursor of `cursor`'s kind, on the current connection."""
        if isinstance(cursor, base.ServerBindingCursor):
            return self._server_binding_cursor(cursor.format == BINARY)
        return self.create_cursor()

    def prepared_cursor(self, binary=True):
        """A cursor whose statements psycopg prepares (see above): for the
        few statements every request runs (the page validators, and the
        compiled listing and article queries, blog/compiled.py).

        `binary` results skip parsing text, but psycopg's binary loaders are
        not the ones Django's cursor reads through (jsonb comes back parsed,
        where Django's cursor hands JSONField its text to parse): only for
        columns that read the same either way (the validators' times). Text
        results go through exactly the loaders of Django's own cursor."""
        self.close_if_health_check_failed()
        self.ensure_connection()
        with self.wrap_database_errors:
            return self._prepare_cursor(self._server_binding_cursor(binary))

    def _server_binding_cursor(self, binary=True):
        cursor = base.ServerBindingCursor(self.connection)
        if binary:
            cursor.format = BINARY  # no text to parse back
        else:
            # As Django's create_cursor: the time zone its loader reads in.
            loader = self.connection.adapters.get_loader(TIMESTAMPTZ_OID, TEXT)
            if self.timezone != loader.timezone:
                base.register_tzloader(self.timezone, cursor)
        return cursor
