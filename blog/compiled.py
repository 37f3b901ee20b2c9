"""Querysets compiled once per process and run with each request's arguments.

Composing a query through the ORM (filters, joins, annotations, then SQL) costs
milliseconds; running it on an index costs a fraction of one. On the render
path the same few queries run on every request with only a slug changing, so
`first_row` compiles a query once per shape with stand-in arguments, finds
where each argument lands in the parameter list (by compiling it again with a
second stand-in), and later fills in the request's own values. Rows become
model instances exactly as Django's ModelIterable makes them (deferred fields,
select_related objects and annotations included). A shape whose stand-ins do
not come back verbatim is never templated: it is compiled per request, as
before. Issue 8.

On PostgreSQL the compiled SQL also runs as a prepared statement (`_cursor`):
its parameters are bound on the server, so after a few runs on a connection
psycopg prepares it and PostgreSQL stops planning it (~0.4 ms a query of the
database's time on every request at 1,000 posts). Results come back as text,
through the loaders of Django's own cursor (blog/postgresql).
"""

from __future__ import annotations

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models.query import get_related_populators

_templates: dict[tuple, tuple | None] = {}


def _stand_in(value, i: int, which: int):
    """A value of the argument's type that nothing real equals."""
    if isinstance(value, int):
        return -(10**12) - 10 * i - which
    return f"~dateline~{'ab'[which]}~{i}"


def _cursor():
    """A cursor for compiled SQL: prepared on PostgreSQL (blog/postgresql),
    Django's own elsewhere (SQLite keeps its statements prepared by itself)."""
    prepared = getattr(connection, "prepared_cursor", None)
    return connection.cursor() if prepared is None else prepared(binary=False)


def cursor():
    """A cursor for SQL of the render path written by hand, constant for its
    shape (times from the database clock): prepared as `_cursor`'s."""
    return _cursor()


def _compile(queryset):
    compiler = queryset.query.get_compiler(connection.alias)
    sql, params = compiler.as_sql()
    return compiler, sql, list(params)


def _template(build, real_args):
    n_args = len(real_args)
    args = [_stand_in(value, i, 0) for i, value in enumerate(real_args)]
    try:
        compiler, sql, base = _compile(build(*args))
    except EmptyResultSet:
        return None
    slots = []
    for i in range(n_args):
        other = list(args)
        other[i] = _stand_in(real_args[i], i, 1)
        _, other_sql, other_params = _compile(build(*other))
        if other_sql != sql or len(other_params) != len(base):
            return None
        moved = [
            p for p, (x, y) in enumerate(zip(base, other_params, strict=True)) if x != y
        ]
        if not moved or any(base[p] != args[i] for p in moved):
            return None
        slots += [(p, i) for p in moved]
    # A time of its own (timezone.now() in a filter) differs between two
    # compiles of the same arguments: such a query is never templated.
    if _compile(build(*args))[2] != base:
        return None
    return compiler, sql, base, slots


def _instances(compiler, rows):
    """Model instances from raw rows, as ModelIterable builds them."""
    select, klass_info = compiler.select, compiler.klass_info
    annotations = compiler.annotation_col_map
    model = klass_info["model"]
    fields = klass_info["select_fields"]
    start, end = fields[0], fields[-1] + 1
    init_list = [column[0].target.attname for column in select[start:end]]
    populators = get_related_populators(klass_info, select, connection.alias)
    objects = []
    for row in compiler.results_iter([rows]):
        obj = model.from_db(connection.alias, init_list, row[start:end])
        for populator in populators:
            populator.populate(row, obj)
        for name, position in annotations.items():
            setattr(obj, name, row[position])
        objects.append(obj)
    return objects


def rows(shape, build, *args) -> list:
    """The model instances `build(*args)` (a sliced or unsliced queryset)
    returns, its SQL compiled once per `shape`."""
    key = (connection.vendor, shape, tuple(type(arg) for arg in args))
    if key not in _templates:
        _templates[key] = _template(build, args)
    template = _templates[key]
    if template is None:
        return list(build(*args))
    compiler, sql, params, slots = template
    params = list(params)
    for position, index in slots:
        params[position] = args[index]
    with _cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    return _instances(compiler, fetched)


def first_row(shape, build, *args):
    """The first instance of `build(*args)[:1]`, or None."""
    found = rows(shape, lambda *a: build(*a)[:1], *args)
    return found[0] if found else None


# Compiled SQL of queries whose every argument is in their key (a listing page:
# its kind, its section, tag or author ids and its slice): compiled once per
# key, rerun as is. Bounded: a flood of distinct keys recompiles, never grows.
_memo: dict[tuple, tuple] = {}
MAX_MEMO = 4096


def _memoised(key, build):
    memo_key = (connection.vendor, *key)
    found = _memo.get(memo_key)
    if found is None:
        try:
            compiler, sql, params = _compile(build())
        except EmptyResultSet:  # e.g. an empty slice: Django answers it
            return None, None, None
        # A query with a time of its own (timezone.now() in a filter) would
        # freeze that time if rerun: compile it per request instead.
        _, _, again = _compile(build())
        found = (compiler, sql, params) if again == params else (None, None, None)
        if len(_memo) >= MAX_MEMO:
            _memo.clear()
        _memo[memo_key] = found
    return found


def memo_rows(key, build) -> list:
    """The model instances of the queryset `build()`; `key` must name
    everything the query depends on besides the database's contents and clock."""
    compiler, sql, params = _memoised(key, build)
    if compiler is None:
        return list(build())
    with _cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    return _instances(compiler, fetched)


def memo_values(key, build) -> list[tuple]:
    """The rows of `build()` (a `values_list()` queryset) as tuples, with
    Django's converters applied (aware datetimes…), no model instances: what
    a page reads only a few columns of needs no Post. `key` as `memo_rows`."""
    compiler, sql, params = _memoised(key, build)
    if compiler is None:
        return [tuple(row) for row in build()]
    with _cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    return list(compiler.results_iter([fetched], tuple_expected=True))


def memo_count(key, build) -> int:
    """COUNT(*) of the rows of `build()` (slice it to bound the count)."""
    compiler, sql, params = _memoised(key, build)
    if compiler is None:
        return build().count()
    with _cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM ({sql}) counted", params)  # noqa: S608
        return cursor.fetchone()[0]


class Lazy:
    """A queryset built on first use. A listing page's queryset is needed only
    when its compiled SQL is not at hand (`memo_rows`, `memo_count` build it
    on a miss): composing it through the ORM on every request cost about as
    much as running the page's queries. `model` is known without building;
    `ordered` is True because every listing is (Post's default ordering, or
    its own): the paginator asks."""

    ordered = True

    def __init__(self, build, model):
        self._build = build
        self._built = None
        self.model = model

    def built(self):
        if self._built is None:
            self._built = self._build()
        return self._built

    def __getattr__(self, name):
        if name.startswith("__") or name in {"_build", "_built"}:
            raise AttributeError(name)
        return getattr(self.built(), name)

    def __getitem__(self, key):
        return self.built()[key]

    def __iter__(self):
        return iter(self.built())

    def __len__(self):
        return len(self.built())
