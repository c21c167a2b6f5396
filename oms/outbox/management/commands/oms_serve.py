"""`oms serve`: Django's development server, plus the periodic schedule in process when no broker is set."""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.core.management.commands.runserver import Command as RunserverCommand


class Command(RunserverCommand):
    help = (
        "Serve the console and API for development. Without CELERY_BROKER_URL it also runs the periodic "
        "background work (outbox relay and scheduled jobs) in a thread, as `oms worker --beat` would."
    )

    def inner_run(self, *args: Any, **options: Any) -> None:
        # inner_run is the serving process (the autoreloader's child), so the schedule runs once.
        if not settings.CELERY_BROKER_URL:
            from config.celery import run_schedule_in_process

            thread = threading.Thread(
                target=run_schedule_in_process, args=(threading.Event(),), name="oms-schedule", daemon=True
            )
            thread.start()
            self.stdout.write("No CELERY_BROKER_URL: running the periodic background work in this process.")
        super().inner_run(*args, **options)
