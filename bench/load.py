"""A Python load generator for `make bench` when wrk is not installed.

Same contract as wrk with bench/urls.lua: `python bench/load.py BASE_URL
PATHS_FILE CONNECTIONS SECONDS [HEADER: value ...]` requests the listed paths
in turn from CONNECTIONS concurrent clients (threads in two processes) for
SECONDS, then prints one `BENCH_JSON {...}` line. Slower than wrk, so its
figures are a floor, and the ratios to the trivial view still hold.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import random
import statistics
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

PROCESSES = 2


def _client(host, port, paths, headers, deadline, out):
    index = random.randrange(len(paths))
    while time.monotonic() < deadline:
        index = (index + 1) % len(paths)
        start = time.perf_counter()
        try:
            conn = http.client.HTTPConnection(host, port, timeout=10)
            conn.request("GET", paths[index], headers=headers)
            response = conn.getresponse()
            response.read()
            conn.close()
            status, cache = response.status, response.getheader("X-Bench-Cache")
        except OSError:
            status, cache = 0, None
        out.append((time.perf_counter() - start, status, cache))


def _process(host, port, paths, headers, clients, deadline, queue):
    results: list = []
    threads = [
        threading.Thread(
            target=_client, args=(host, port, paths, headers, deadline, results)
        )
        for _ in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    queue.put(results)


def run(base, paths, connections, seconds, headers) -> dict:
    url = urlsplit(base)
    queue = multiprocessing.Queue()
    deadline = time.monotonic() + seconds
    started = time.monotonic()
    per = [connections // PROCESSES + (k < connections % PROCESSES) for k in range(2)]
    procs = [
        multiprocessing.Process(
            target=_process,
            args=(url.hostname, url.port, paths, headers, n, deadline, queue),
        )
        for n in per
        if n
    ]
    for proc in procs:
        proc.start()
    results = [row for _ in procs for row in queue.get()]
    for proc in procs:
        proc.join()
    elapsed = time.monotonic() - started
    latencies = sorted(r[0] for r in results) or [0.0]
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {
        "requests": len(results),
        "seconds": elapsed,
        "p50_ms": q[49] * 1000,
        "p99_ms": q[98] * 1000,
        "errors": sum(1 for r in results if r[1] == 0),
        "non_2xx_3xx": sum(1 for r in results if r[1] and not 200 <= r[1] < 400),
        "hits": sum(1 for r in results if r[2] == "hit"),
        "misses": sum(1 for r in results if r[2] == "miss"),
    }


if __name__ == "__main__":
    base, paths_file, connections, seconds, *header_args = sys.argv[1:]
    paths = [line for line in Path(paths_file).read_text().splitlines() if line]
    headers = dict(h.split(": ", 1) for h in header_args)
    result = run(base, paths, int(connections), float(seconds), headers)
    print("BENCH_JSON " + json.dumps(result), flush=True)
