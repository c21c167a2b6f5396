import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Single-order intake in process (1, 2 processes), through HTTP (2 servers) and raw psycopg, PostgreSQL."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--orders", type=int, default=2_000, help="Orders per run.")

    def handle(self, *args: Any, **options: Any) -> None:
        sys.path.insert(0, str(settings.BASE_DIR))  # bench/ lives beside the package, not inside it
        settings.DEBUG = False  # as in production: DEBUG logs every query's SQL text, which costs CPU per call
        from bench.single import run, table

        result = run(orders=options["orders"])
        self.stdout.write(table(result))
        self.stdout.write(f"\nSaved {result['path']}")
