import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "B3: review + allocation + courier for paid orders on PostgreSQL, with pgbench TPC-B; writes bench/results/."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--orders", type=int, default=20_000)
        parser.add_argument("--batch", type=int, default=None, help="Orders per batch (default from settings).")
        parser.add_argument("--workers", type=int, default=None, help="Processes (default: one per core).")
        parser.add_argument("--pgbench-seconds", type=int, default=15, help="pgbench TPC-B run length.")
        parser.add_argument("--pgbench-scale", type=int, default=10, help="pgbench scale factor.")

    def handle(self, *args: Any, **options: Any) -> None:
        sys.path.insert(0, str(settings.BASE_DIR))  # bench/ lives beside the package, not inside it
        settings.DEBUG = False  # as in production: DEBUG logs every query's SQL text, which costs CPU per call
        from bench.fulfillment import run, table

        result = run(
            orders=options["orders"],
            workers=options["workers"],
            batch=options["batch"],
            pgbench_seconds=options["pgbench_seconds"],
            pgbench_scale=options["pgbench_scale"],
        )
        self.stdout.write(table(result))
        self.stdout.write(f"\nSaved {result['path']}")
