"""`manage.py worker`: django-tasks-db's `db_worker`, plus a periodic sweep.

A database that goes away does not end the worker: it waits, with back-off,
and carries on when the database answers again.

The sweep (blog.tasks.sweep) is what needs no cron: scheduled posts that came
due get their WebSub ping, pings whose job was lost are queued again, and jobs
whose worker died are put back. It runs in a thread beside the job loop, with
its own database connection, and is safe with any number of workers.
"""

import logging
import threading
import time
from datetime import timedelta

from django.db import (
    InterfaceError,
    OperationalError,
    close_old_connections,
    connections,
)
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Command as DBWorkerCommand

from blog import tasks

logger = logging.getLogger("blog.tasks")


# Each sweep looks back to a little before the previous one began: a post
# scheduled for a time in between, saved in a slow transaction, is still seen.
OVERLAP = timedelta(minutes=5)


def sweep_forever(interval: float, stop: threading.Event) -> None:
    since = None  # the first sweep looks back tasks.DUE_LOOKBACK
    while not stop.wait(interval):
        close_old_connections()
        started = timezone.now()
        try:
            counts = tasks.sweep(since)
        except Exception:
            # A database that is away now is back later; the next sweep retries.
            logger.exception("Sweep failed")
            connections.close_all()
        else:
            since = started - OVERLAP
            if any(counts.values()):
                logger.info("Sweep: %s", counts)


class Command(DBWorkerCommand):
    help = (
        "Run queued jobs (WebSub pings, renditions, imports) and, every few "
        "seconds, look for scheduled posts that came due and for lost jobs."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--sweep-interval",
            type=float,
            default=10.0,
            help="Seconds between sweeps (default: %(default)s).",
        )

    def handle(self, *args, sweep_interval=10.0, **options):
        stop = threading.Event()
        sweeper = threading.Thread(
            target=sweep_forever,
            args=(sweep_interval, stop),
            name="dateline-sweep",
            daemon=True,
        )
        sweeper.start()
        pause = 1.0
        try:
            while True:
                try:
                    super().handle(*args, **options)
                    return
                except (OperationalError, InterfaceError) as error:
                    # The database is away (restarting, failing over): wait
                    # and try again rather than die and leave jobs waiting.
                    logger.warning(
                        "Database unavailable (%s); again in %.0f s", error, pause
                    )
                    connections.close_all()
                    time.sleep(pause)
                    pause = min(pause * 2, 30.0)
        finally:
            stop.set()
