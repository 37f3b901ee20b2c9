"""gunicorn settings for every node: `gunicorn -c python:config.gunicorn config.wsgi`.

Stopping a node (SIGTERM) must lose no request (issue 11). gunicorn finishes
the requests its workers are handling, but connections the kernel had already
accepted for it, waiting in the listen backlog, are reset when the workers
exit, and a proxy cannot safely resend a POST whose connection was reset (the
node may have saved it). So each worker, once told to stop, first serves what
is already waiting, then closes the socket: from then on connections are
refused, which a proxy retries on another node.
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
