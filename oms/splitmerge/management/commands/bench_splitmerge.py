import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Split/merge benchmark on PostgreSQL: statements and ops/s per split and merge, auto-merge grouping."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--repeats", type=int, default=5)
        parser.add_argument("--grouping-orders", type=int, default=100_000)

    def handle(self, *args: Any, **options: Any) -> None:
        sys.path.insert(0, str(settings.BASE_DIR))  # bench/ lives beside the package, not inside it
        settings.DEBUG = False  # as in production: DEBUG logs every query's SQL text, which costs CPU per call
        from bench.splitmerge import run, table

        result = run(repeats=options["repeats"], grouping_orders=options["grouping_orders"])
        self.stdout.write(table(result))
        self.stdout.write(f"\nSaved {result['path']}")
