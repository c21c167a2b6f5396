from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from oms.reports.services.rollups import rollups_rebuild, rollups_refresh


class Command(BaseCommand):
    help = "Bring the daily report figures up to date (only the days that changed); --rebuild recomputes all."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rebuild", action="store_true", help="Recompute every day from orders and payments.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["rebuild"]:
            rollups_rebuild()
            self.stdout.write(self.style.SUCCESS("Every day's figures recomputed."))
            return
        result = rollups_refresh()
        if result.rebuilt:
            self.stdout.write(self.style.SUCCESS("First run: every day's figures computed."))
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Recomputed {len(result.sales_days)} sales day(s) and {len(result.cash_days)} cash day(s)."
                )
            )
