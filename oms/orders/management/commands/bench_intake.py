import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "B1: bulk intake of 20,000 orders on PostgreSQL next to a raw psycopg baseline; writes bench/results/."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--orders", type=int, default=20_000)
        parser.add_argument("--batch", type=int, default=settings.OMS["BULK_INTAKE_MAX"])
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args: Any, **options: Any) -> None:
        sys.path.insert(0, str(settings.BASE_DIR))  # bench/ lives beside the package, not inside it
        settings.DEBUG = False  # as in production: DEBUG logs every query's SQL text, which costs CPU per call
        from bench.intake import run, table

        result = run(orders=options["orders"], batch=options["batch"], seed=options["seed"])
        self.stdout.write(table(result))
        self.stdout.write(f"\nSaved {result['path']}")
