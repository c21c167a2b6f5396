import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Order list filters, search kinds, a deep page and the detail at 1,000,000 orders vs raw SQL."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--orders", type=int, default=1_000_000)
        parser.add_argument("--seeds", type=int, default=2_000, help="Orders taken in through intake, then copied.")
        parser.add_argument("--requests", type=int, default=30, help="Timed requests per case.")
        parser.add_argument("--rebuild", action="store_true", help="Build the fixture even if one is there.")

    def handle(self, *args: Any, **options: Any) -> None:
        sys.path.insert(0, str(settings.BASE_DIR))  # bench/ lives beside the package, not inside it
        settings.DEBUG = False  # as in production: DEBUG logs every query's SQL text, which costs CPU per call
        from bench.lists import run, table

        result = run(
            orders=options["orders"], seeds=options["seeds"], requests=options["requests"], rebuild=options["rebuild"]
        )
        self.stdout.write(table(result))
        self.stdout.write(f"\nSaved {result['path']}")
