"""`make bench`: throughput and latency of Dateline under gunicorn (issue 8).

For each archive size (BENCH_SIZES, default 1000,100000) and each database
configuration — SQLite with the per-process cache, and PostgreSQL + Redis
when BENCH_DATABASE_URL and REDIS_URL answer — it:

1. builds the archive with `manage.py generate_posts N` (cached under
   var/bench/, keyed by the code that shapes the rows, so later runs reuse it;
   on PostgreSQL one schema per size inside BENCH_DATABASE_URL's database);
2. starts gunicorn (2 sync workers) on 127.0.0.1, once with the caches on and
   once with every alias a DummyCache (DATELINE_CACHE=off: the render path),
   and measures each page with wrk (`-t2 -c32`, 8 s after a warm-up; search at
   8 connections), or bench/load.py when wrk is missing; the trivial view
   (/robots.txt) of the same server is the ceiling every row is divided by;
3. runs the breaking-news scenario with the caches on: 60 s at 64
   connections over the 1,000 newest articles (Zipf-like) plus home, section
   and feeds, while bench/newsroom.py adds a story update to the hottest
   article every 10 s; the hit rate comes from bench/wsgi.py;
4. reads the workers' resident memory (VmRSS) afterwards.

It prints one table and writes it to bench/results/latest.md. URLs come from
the ORM and reverse() (bench/newsroom.py). Everything listens on loopback
only and every wait is bounded.

Knobs: BENCH_SIZES=1000 (one size), BENCH_QUICK=1 (3 s rows, a 20 s breaking
scenario), BENCH_DATABASES=sqlite or postgres (one configuration),
BENCH_SECONDS, BENCH_BREAKING_SECONDS; BENCH_BUILD_ONLY=1 only builds (and
caches) the archives. The machine is shared while it runs:
absolute numbers are noisy, ratios to the trivial view much less so.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
VAR = ROOT / "var" / "bench"
PYTHON = sys.executable
GUNICORN = str(Path(PYTHON).parent / "gunicorn")

QUICK = os.environ.get("BENCH_QUICK") == "1"
SIZES = [int(s) for s in os.environ.get("BENCH_SIZES", "1000,100000").split(",") if s]
SECONDS = float(os.environ.get("BENCH_SECONDS", "3" if QUICK else "8"))
WARMUP = 1.0 if QUICK else 2.0
BREAKING_SECONDS = float(
    os.environ.get("BENCH_BREAKING_SECONDS", "20" if QUICK else "60")
)
BUILD_ONLY = os.environ.get("BENCH_BUILD_ONLY") == "1"
UPDATE_EVERY = 10.0
WORKERS = 2
CONNECTIONS = 32
SEARCH_CONNECTIONS = 8
BREAKING_CONNECTIONS = 64
# The files whose change changes the generated rows: a cached archive built
# by other code is rebuilt.
ARCHIVE_CODE = (
    "blog/generating.py",
    "blog/management/commands/generate_posts.py",
    "blog/models.py",
    "blog/markup.py",
    "blog/search.py",
    "blog/migrations/*.py",
    # Stored cards and article parts carry a stamp of these (fragments.VERSION
    # is raised when the Python that shapes them changes): an archive built
    # with other templates or catalogues would be served through the live
    # fallback, not the path production takes.
    "blog/fragments.py",
    "templates/*.html",
    "templates/blog/*.html",
    "locale/*/LC_MESSAGES/*.mo",
)


def archive_key() -> str:
    digest = hashlib.blake2b(digest_size=6)
    for pattern in ARCHIVE_CODE:
        for path in sorted(ROOT.glob(pattern)):
            digest.update(path.read_bytes())
    return digest.hexdigest()


def base_env() -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_URL", "REDIS_URL", "DATELINE_", "SITE_URL"))
    }
    env.update(
        DJANGO_SECRET_KEY="bench-only-key",  # noqa: S106 - loopback-only throwaway
        DJANGO_DEBUG="",
        DATELINE_VAR_DIR=str(VAR / "var"),
        DATELINE_FEED_ITEMS="20",
        DJANGO_LOG_LEVEL="WARNING",
    )
    return env


def manage(env, *args, quiet=True):
    subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL if quiet else None,
    )


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


# --- the databases ------------------------------------------------------------


@dataclass
class Database:
    label: str
    env: dict
    size: int
    built_in: float | None = None  # seconds generate_posts took; None: cached

    def build(self):
        raise NotImplementedError

    def generate(self, env):
        print(f"bench: generating {self.size:,} posts on {self.label} …", flush=True)
        # A batch load, like a long migration: no statement or round-trip
        # bound (on a loaded machine one bulk insert of 100,000 outlasted 7 s).
        env = {**env, "DATELINE_CACHE": "off", "DATABASE_STATEMENT_TIMEOUT": "0"}
        manage(env, "migrate", "--noinput")
        started = time.perf_counter()
        manage(env, "generate_posts", str(self.size), quiet=False)
        self.built_in = time.perf_counter() - started


class Sqlite(Database):
    def __init__(self, size):
        path = VAR / f"sqlite-{size}-{archive_key()}.sqlite3"
        super().__init__("SQLite + local memory", {}, size)
        self.path = path
        self.env = {**base_env(), "DATABASE_URL": f"sqlite:///{path}"}

    def build(self):
        if self.path.exists():
            return
        for stale in VAR.glob(f"sqlite-{self.size}-*.sqlite3*"):
            stale.unlink()
        partial = self.path.with_suffix(".partial")
        env = {**self.env, "DATABASE_URL": f"sqlite:///{partial}"}
        for leftover in VAR.glob(partial.name + "*"):
            leftover.unlink()
        self.generate(env)
        partial.rename(self.path)


class Postgres(Database):
    def __init__(self, size, url, redis_url):
        self.url, self.schema = url, f"bench_{size}"
        label = "PostgreSQL + Redis" if redis_url else "PostgreSQL + local memory"
        env = {
            **base_env(),
            "DATABASE_URL": f"{url}?options=-c%20search_path%3D{self.schema}",
        }
        if redis_url:
            env["REDIS_URL"] = redis_url
        super().__init__(label, env, size)
        self.marker = VAR / f"pg-{urlsplit(url).path.strip('/')}-{self.schema}.key"

    def build(self):
        key = archive_key()
        if self.marker.exists() and self.marker.read_text() == key:
            return
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")
            conn.execute(f"CREATE SCHEMA {self.schema}")
        self.marker.unlink(missing_ok=True)
        self.generate(self.env)
        self.vacuum()
        self.marker.write_text(key)

    def vacuum(self):
        """What autovacuum does in production, before anything is measured.

        This machine's server runs with autovacuum off: an archive left as
        generate_posts wrote it keeps every superseded row version and no
        visibility map, so index-only scans visit the heap (the biggest
        section's index held 91,193 entries for 31,067 live rows at 100,000
        posts)."""
        import psycopg

        started = time.perf_counter()
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f"SET search_path TO {self.schema}")
            conn.execute("SET statement_timeout TO 0")
            tables = conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s", [self.schema]
            ).fetchall()
            for (table,) in tables:
                conn.execute(f'VACUUM (ANALYZE) "{self.schema}"."{table}"')
        print(
            f"bench: VACUUM (ANALYZE) in {time.perf_counter() - started:.0f} s",
            flush=True,
        )


def databases(size) -> list[Database]:
    chosen = os.environ.get("BENCH_DATABASES", "sqlite,postgres").split(",")
    found = []
    if "sqlite" in chosen:
        found.append(Sqlite(size))
    url = os.environ.get("BENCH_DATABASE_URL", "")
    if "postgres" in chosen and url:
        where = urlsplit(url)
        if not answers(where.hostname or "127.0.0.1", where.port or 5432):
            print(f"bench: PostgreSQL at {where.netloc} does not answer; skipped")
        else:
            redis_url = os.environ.get("REDIS_URL", "")
            if redis_url:
                r = urlsplit(redis_url)
                if not answers(r.hostname or "127.0.0.1", r.port or 6379):
                    print(f"bench: Redis at {r.netloc} does not answer; not used")
                    redis_url = ""
            found.append(Postgres(size, url, redis_url))
    return found


# --- the server ---------------------------------------------------------------


class Server:
    """gunicorn with 2 sync workers on a free loopback port."""

    def __init__(self, env, app="config.wsgi"):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [GUNICORN, app, "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(WORKERS), "--worker-class", "sync",
             "--log-level", "warning"],
            cwd=ROOT, env=env,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.get("/healthz")[0] == 200:
                return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("bench: gunicorn did not answer /healthz within 30 s")

    def get(self, path, headers=None):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            conn.request("GET", path, headers=headers or {})
            response = conn.getresponse()
            response.read()
            conn.close()
            return response.status, response
        except OSError:
            return 0, None

    def worker_rss_mib(self) -> list[float]:
        rss = []
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                fields = dict(
                    line.split(":", 1) for line in status.read_text().splitlines()
                )
            except (OSError, ValueError):
                continue
            if fields.get("PPid", "").strip() == str(self.process.pid):
                rss.append(int(fields["VmRSS"].split()[0]) / 1024)
        return sorted(rss)

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


# --- the load -------------------------------------------------------------------


def drain(server) -> None:
    """Wait until the requests a finished load run left queued are served.

    wrk stops at its deadline, but gunicorn still renders every request
    already in its listen queue (up to one per connection); left alone, that
    backlog would eat the next row's time. Rounds of one probe per worker
    slot for the trivial view go to the back of the queue; once a round comes
    back quickly, the queue is empty. Bounded at 120 s.
    """
    deadline = time.monotonic() + 120

    def probe(_):
        started = time.monotonic()
        server.get("/robots.txt")
        return time.monotonic() - started

    while time.monotonic() < deadline:
        with ThreadPoolExecutor(max_workers=2 * WORKERS) as pool:
            if max(pool.map(probe, range(2 * WORKERS))) < 0.25:
                return


def load(server, paths, connections, seconds, headers=None, count=False) -> dict:
    headers = headers or {}
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("\n".join(paths) + "\n")
    try:
        if shutil.which("wrk"):
            command = ["wrk", f"-t{min(2, connections)}", f"-c{connections}",
                       f"-d{seconds:g}s", "--timeout", "10s",
                       "-s", str(BENCH / ("counting.lua" if count else "urls.lua"))]  # fmt: skip
            for name, value in headers.items():
                command += ["-H", f"{name}: {value}"]
            command += [server.base + "/", "--", f.name]
        else:
            command = [PYTHON, str(BENCH / "load.py"), server.base, f.name,
                       str(connections), f"{seconds:g}",
                       *(f"{k}: {v}" for k, v in headers.items())]  # fmt: skip
        out = subprocess.run(
            command, capture_output=True, text=True, timeout=seconds + 60, check=True
        ).stdout
    finally:
        os.unlink(f.name)
        drain(server)
    line = next(x for x in out.splitlines() if x.startswith("BENCH_JSON "))
    result = json.loads(line.removeprefix("BENCH_JSON "))
    result["rps"] = result["requests"] / result["seconds"] if result["seconds"] else 0
    result["errors"] += result.pop("non_2xx_3xx")
    return result


@dataclass
class Row:
    size: int
    database: str
    cache: str
    page: str
    result: dict
    ceiling: float = 0.0
    connections: int = CONNECTIONS
    notes: list = field(default_factory=list)


def pages(targets) -> list[tuple[str, list[str], int]]:
    feeds = targets["feeds"]
    return [
        ("trivial view /robots.txt (ceiling)", [targets["robots"]], CONNECTIONS),
        ("article (1,000 across the archive)", targets["articles"], CONNECTIONS),
        ("home", [targets["home"]], CONNECTIONS),
        ("section", [targets["section"]], CONNECTIONS),
        ("tag", [targets["tag"]], CONNECTIONS),
        ("tag intersection", [targets["intersection"]], CONNECTIONS),
        ("search (20 common words)", targets["search"], SEARCH_CONNECTIONS),
        ("RSS feed (20 items)", [feeds["rss"]], CONNECTIONS),
        ("Atom feed (20 items)", [feeds["atom"]], CONNECTIONS),
        ("JSON feed (20 items)", [feeds["json"]], CONNECTIONS),
    ]


def measure_pages(db, cache, targets, memory) -> list[Row]:
    env = {**db.env, "DATELINE_CACHE": cache}
    server = Server(env)
    rows = []
    try:
        for page, paths, connections in pages(targets):
            rows.append(measure(server, db, cache, page, paths, connections))
        article = targets["articles"][0]
        _, response = server.get(article)
        etag = response.getheader("ETag") if response else None
        if etag:
            rows.append(
                measure(server, db, cache, "304 revalidation (article)", [article],
                        CONNECTIONS, {"If-None-Match": etag})
            )  # fmt: skip
        # The ceiling again at the end: on a shared machine it drifts, so
        # every row is divided by the mean of the two.
        last = measure(server, db, cache, "trivial view, again", [targets["robots"]],
                       CONNECTIONS)  # fmt: skip
        memory[(db.size, db.label, cache)] = server.worker_rss_mib()
    finally:
        server.stop()
    first = rows[0].result["rps"]
    rows[
        0
    ].page += f" (first {first:,.0f}, last {last.result['rps']:,.0f} req/s; mean shown)"
    rows[0].result = {
        **rows[0].result,
        "rps": (first + last.result["rps"]) / 2,
    }
    for row in rows:
        row.ceiling = rows[0].result["rps"]
    return rows


WARM_BUDGET = 60.0 if QUICK else 180.0  # seconds at most to fill the cache


WARM_ROUNDS = 3  # a per-process cache needs each page in each worker


def warm(server, paths, headers=None) -> None:
    """Request every distinct path a few times (4 at a time), so a cached row
    measures the cache, not the first render of 1,000 articles."""
    distinct = list(dict.fromkeys(paths)) * WARM_ROUNDS
    deadline = time.monotonic() + WARM_BUDGET

    def fetch(path):
        if time.monotonic() < deadline:
            server.get(path, headers)

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(fetch, distinct))
    if time.monotonic() >= deadline:
        print(f"bench: warming {len(distinct)} paths took over {WARM_BUDGET:g} s")


def measure(server, db, cache, page, paths, connections, headers=None) -> Row:
    if cache == "on" and len(set(paths)) > 1:
        warm(server, paths, headers)
    load(server, paths, connections, WARMUP, headers)
    result = load(server, paths, connections, SECONDS, headers)
    print(
        f"bench: {db.size:,} posts, {db.label}, cache {cache}: {page}: "
        f"{result['rps']:,.0f} req/s, p99 {result['p99_ms']:.0f} ms, "
        f"{result['errors']} errors",
        flush=True,
    )
    return Row(db.size, db.label, cache, page, result, connections=connections)


def breaking_paths(targets) -> list[str]:
    """10,000 requests: 80% articles (Zipf over the 1,000 newest: a few hot,
    a long tail), 8% home, 4% section, 8% the three feeds; shuffled."""
    rng = random.Random(8)
    hot = targets["hot"]
    weights = [1 / rank for rank in range(1, len(hot) + 1)]
    paths = rng.choices(hot, weights=weights, k=8000)
    paths += [targets["home"]] * 800 + [targets["section"]] * 400
    paths += [url for url in targets["feeds"].values() for _ in range(267)]
    rng.shuffle(paths)
    return paths


def breaking_news(db, targets, memory) -> Row:
    env = {**db.env, "DATELINE_CACHE": "on"}
    server = Server(env, app="bench.wsgi:application")
    try:
        paths = breaking_paths(targets)
        warm(server, paths)  # the steady state before the story breaks
        load(server, paths, BREAKING_CONNECTIONS, WARMUP)
        updater = subprocess.Popen(
            [PYTHON, str(BENCH / "newsroom.py"), "breaking",
             f"{BREAKING_SECONDS:g}", f"{UPDATE_EVERY:g}"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        result = load(server, paths, BREAKING_CONNECTIONS, BREAKING_SECONDS, count=True)
        out, _ = updater.communicate(timeout=120)
        updates = json.loads(out.strip().splitlines()[-1])["updates"]
        memory[(db.size, db.label, "breaking")] = server.worker_rss_mib()
    finally:
        server.stop()
    page = (
        f"breaking news: {BREAKING_SECONDS:g} s, a story update every "
        f"{UPDATE_EVERY:g} s, Zipf over 1,000 articles + home, section, feeds"
    )
    row = Row(db.size, db.label, "on", page, result, connections=BREAKING_CONNECTIONS)
    print(
        f"bench: {db.size:,} posts, {db.label}: {page}: {updates} updates added, "
        f"{result['rps']:,.0f} req/s, p99 {result['p99_ms']:.0f} ms, "
        f"hits {result['hits']}, misses {result['misses']}",
        flush=True,
    )
    return row


# --- the report -------------------------------------------------------------------


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = ""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal"):
            memory = f", {int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    return (
        f"{os.cpu_count()} cores ({cpu}){memory}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def report(rows, memory, built, started, tool) -> str:
    lines = [
        f"Measured {started:%Y-%m-%d %H:%M} UTC on {machine()}; load average "
        f"{loadavg()} at the end (the machine may be shared: absolute figures are "
        "noisy, ratios to the trivial view of the same server much less so).",
        f"gunicorn {WORKERS} sync workers on 127.0.0.1; load from {tool} "
        f"(2 threads, {CONNECTIONS} connections unless stated, {SECONDS:g} s per "
        f"row after {WARMUP:g} s of warm-up). Cache off = every cache alias a "
        "DummyCache (DATELINE_CACHE=off). x trivial = req/s ÷ the trivial view's "
        "req/s on the same server; vs N posts = that share over the same row's share at the smallest size (1.00 = flat). Hit rate from bench/wsgi.py (a request that "
        "wrote nothing to a cache).",
        "",
        "Archives: "
        + "; ".join(
            f"{size:,} posts on {label}: "
            + (f"generated in {secs:,.0f} s" if secs is not None else "cached")
            for (size, label), secs in built.items()
        ),
        "",
        "| posts | database + cache | cache | page | req/s | p50 ms | p99 ms "
        f"| errors | x trivial | vs {min(SIZES):,} posts | hit rate |",
        "| ---: | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]

    def share(row):
        return row.result["rps"] / row.ceiling if row.ceiling else 0.0

    smallest = {
        (row.database, row.cache, row.page): share(row)
        for row in rows
        if row.size == min(SIZES)
    }
    for row in rows:
        r = row.result
        ratio = f"{share(row):.2f}" if row.ceiling else ""
        # The scale target: a page's share of the ceiling at this size over
        # its share at the smallest size (1.00 = perfectly flat).
        base = smallest.get((row.database, row.cache, row.page))
        flat = f"{share(row) / base:.2f}" if base and row.size != min(SIZES) else ""
        counted = r["hits"] + r["misses"]
        hit_rate = f"{100 * r['hits'] / counted:.0f}%" if counted else ""
        page = row.page
        if row.connections != CONNECTIONS:
            page += f", {row.connections} connections"
        lines.append(
            f"| {row.size:,} | {row.database} | {row.cache} | {page} "
            f"| {r['rps']:,.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} "
            f"| {r['errors']} | {ratio} | {flat} | {hit_rate} |"
        )
    lines += ["", "Worker memory (VmRSS of each gunicorn worker after its runs):", ""]
    for (size, label, cache), rss in memory.items():
        shown = ", ".join(f"{x:.0f}" for x in rss) or "?"
        what = "breaking news" if cache == "breaking" else f"pages, cache {cache}"
        lines.append(f"- {size:,} posts, {label}, {what}: {shown} MiB")
    return "\n".join(lines) + "\n"


def main():
    started = datetime.now(UTC)
    VAR.mkdir(parents=True, exist_ok=True)
    tool = "wrk" if shutil.which("wrk") else "bench/load.py (wrk not installed)"
    print(f"bench: {machine()}; load from {tool}", flush=True)
    manage(base_env(), "collectstatic", "--noinput")
    rows, memory, built = [], {}, {}
    for size in SIZES:
        for db in databases(size):
            db.build()
            built[(size, db.label)] = db.built_in
            if BUILD_ONLY:
                continue
            targets = json.loads(
                subprocess.run(
                    [PYTHON, str(BENCH / "newsroom.py"), "targets"],
                    cwd=ROOT, env=db.env, capture_output=True, text=True, check=True,
                ).stdout
            )  # fmt: skip
            for cache in ("on", "off"):
                rows += measure_pages(db, cache, targets, memory)
            breaking = breaking_news(db, targets, memory)
            breaking.ceiling = next(
                row.ceiling
                for row in rows
                if row.size == size and row.database == db.label and row.cache == "on"
            )
            rows.append(breaking)
    if BUILD_ONLY:
        print(f"bench: archives built: {built}")
        return
    text = report(rows, memory, built, started, tool)
    out = BENCH / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
