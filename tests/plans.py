"""How the database would run a query, for the tests that lock a plan."""

from django.db import connection, transaction


def plan(sql, params=(), explain="EXPLAIN") -> str:
    """The plan of `sql` as one string, a step a line: SQLite's EXPLAIN QUERY
    PLAN; on PostgreSQL `explain` (e.g. "EXPLAIN (ANALYZE, COSTS OFF)") with
    the scans and sorts that ignore an index's order turned off, since test
    tables are too small for the planner to prefer any index."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            return "\n".join(row[3] for row in cursor.fetchall())
        for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
            cursor.execute(f"SET LOCAL {setting} = off")
        cursor.execute(f"{explain} {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())
