"""Run a Celery worker for the background work (outbox relay and the scheduled jobs)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Run a Celery worker; --beat also runs the periodic schedule in it (use one such worker)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--beat", action="store_true", help="Also run the periodic scheduler (celery beat).")
        parser.add_argument("--concurrency", type=int, default=0, help="Worker processes (default: CPU count).")
        parser.add_argument("--loglevel", default="INFO")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.CELERY_BROKER_URL:
            raise CommandError(
                "CELERY_BROKER_URL is not set (e.g. redis://127.0.0.1:6379/0). Without a broker, tasks run "
                "in process and `oms outbox relay --loop` delivers retries."
            )
        from config.celery import app

        argv = ["worker", f"--loglevel={options['loglevel']}", "-Q", settings.CELERY_TASK_DEFAULT_QUEUE]
        if options["concurrency"]:
            argv.append(f"--concurrency={options['concurrency']}")
        if options["beat"]:
            argv += ["--beat", f"--schedule={settings.VAR_DIR / 'celerybeat-schedule'}"]
        app.worker_main(argv)
