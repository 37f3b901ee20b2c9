"""gunicorn settings for every node: `gunicorn -c python:config.gunicorn config.wsgi`.

Stopping a node (SIGTERM) must lose no request (issue 11). gunicorn finishes
the requests its workers are handling, but connections the kernel had already
accepted for it, waiting in the listen backlog, are reset when the workers
exit, and a proxy cannot safely resend a POST whose connection was reset (the
node may have saved it): `make cluster` saw 3 of 361 saves fail that way. So
each worker, once told to stop, shrinks its backlog to nothing (new arrivals
are dropped and, resent a second later, refused: a proxy takes those to
another node), serves what is already queued, then closes the socket.
"""

import os
import time

from gunicorn.workers.sync import SyncWorker

# How long a stopping worker keeps serving what is queued for it, at most.
DRAIN_SECONDS = 10


class DrainingSyncWorker(SyncWorker):
    def run(self):
        super().run()
        self.drain()

    def drain(self):
        deadline = time.monotonic() + DRAIN_SECONDS
        for listener in self.sockets:
            # A backlog of 0: the kernel queues (almost) no new connections
            # and drops their SYNs instead; clients resend them a second later
            # and find the port closed, which a proxy takes to another node.
            listener.listen(0)
            listener.setblocking(False)
            while time.monotonic() < deadline:
                try:
                    self.accept(listener)
                except OSError:  # nothing waiting (EAGAIN), or already closed
                    break
            listener.close()


worker_class = "config.gunicorn.DrainingSyncWorker"
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
graceful_timeout = 20
# Requests are logged by the app as JSON lines (blog/logs.py).
accesslog = None
control_socket_disable = True
# gunicorn's own lines (workers booting, stopping, timing out) as JSON too,
# like the app's (blog/logs.py, which needs no Django to import).
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "blog.logs.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stderr",
        }
    },
    "root": {"level": "INFO", "handlers": ["console"]},
    "loggers": {
        "gunicorn.error": {
            "level": "INFO",
            "handlers": ["console"],
            "propagate": False,
        },
        # With a logging config gunicorn writes access lines too; the app's
        # own request lines (with ids and durations) make them redundant.
        "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
    },
}
