import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection


class Command(BaseCommand):
    help = "Reports at 1,000,000 orders on PostgreSQL: 90-day sales report and order detail vs raw SQL."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--orders", type=int, default=1_000_000)
        parser.add_argument("--days", type=int, default=90)
        parser.add_argument("--repeats", type=int, default=20)
        parser.add_argument(
            "--export", action="append", default=[], choices=["csv", "xlsx"], help="Also export every order."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("Run it on PostgreSQL: DATABASE_URL=postgres://…/oms_bench_reports oms bench reports")
        sys.path.insert(0, str(settings.BASE_DIR))  # bench/ lives beside the package, not inside it
        settings.DEBUG = False
        from bench.reports import run, table

        result = run(
            orders=options["orders"], days=options["days"], repeats=options["repeats"], exports=tuple(options["export"])
        )
        self.stdout.write(table(result))
        self.stdout.write(f"\nSaved {result['path']}")
