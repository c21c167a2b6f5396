import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Stock benchmarks on PostgreSQL: B2 hot-SKU reservations, B4 full quota recompute; writes bench/results/."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("which", nargs="?", default="all", choices=["all", "b2", "b4"])

    def handle(self, *args: Any, **options: Any) -> None:
        sys.path.insert(0, str(settings.BASE_DIR))  # bench/ lives beside the package, not inside it
        settings.DEBUG = False  # as in production: DEBUG logs every query's SQL text, which costs CPU per call
        from bench.stock import run, table

        result = run(options["which"])
        self.stdout.write(table(result))
        self.stdout.write(f"\nSaved {result['path']}")
