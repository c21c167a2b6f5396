"""The Celery application. Without CELERY_BROKER_URL tasks run eagerly in process.

With a broker, `oms worker` runs the tasks and `oms worker --beat` (or `celery beat`) the periodic
schedule in ``CELERY_BEAT_SCHEDULE``. Without one there is no beat process, so `oms serve` runs the
same schedule in a thread of the web process (``run_schedule_in_process``): the embedded default
still does all the background work.
"""

import logging
import os
import threading
from datetime import UTC, datetime, timedelta

from celery import Celery
from celery.schedules import schedule as every

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = Celery("oms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger("oms.schedule")


def run_schedule_in_process(stop: threading.Event) -> None:
    """Run every ``CELERY_BEAT_SCHEDULE`` entry in this thread when due (first run at once), eagerly,
    until ``stop`` is set. For the no-broker setup only: with a broker, beat does this."""
    from django.db import close_old_connections

    app.loader.import_default_modules()  # the tasks modules autodiscover_tasks() found, as a worker imports them
    entries = []
    for name, entry in dict(app.conf.beat_schedule).items():
        when = entry["schedule"]
        if isinstance(when, int | float | timedelta):
            when = every(when if isinstance(when, timedelta) else timedelta(seconds=when), app=app)
        entries.append((name, entry, when))
    last_run: dict[str, datetime] = {name: datetime(2000, 1, 1, tzinfo=UTC) for name, _entry, _when in entries}
    while not stop.is_set():
        wait_s = 60.0
        for name, entry, when in entries:
            due, next_in_s = when.is_due(last_run[name])
            if due:
                last_run[name] = app.now()
                try:
                    app.tasks[entry["task"]].apply(args=entry.get("args", ()), kwargs=entry.get("kwargs", {}))
                except Exception:
                    logger.exception("Scheduled task %s failed", name)
                finally:
                    close_old_connections()
            wait_s = min(wait_s, next_in_s)
        stop.wait(max(wait_s, 0.5))
