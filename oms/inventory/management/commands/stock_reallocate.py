from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from oms.channels.services.allocation import channel_stock_reallocate


class Command(BaseCommand):
    help = "Recompute every channel's quotas from the allocation rules and warehouse stock (C1)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--sku", type=int, action="append", help="Only this SKU id (repeatable).")
        parser.add_argument("--chunk", type=int, default=5000, help="SKUs per transaction.")

    def handle(self, *args: Any, **options: Any) -> None:
        summary = channel_stock_reallocate(sku_ids=options["sku"], chunk=options["chunk"])
        self.stdout.write(
            self.style.SUCCESS(f"Reallocated {summary.skus} SKU(s); {summary.rows_changed} channel row(s) changed.")
        )
        if summary.over_committed:
            self.stdout.write(f"{len(summary.over_committed)} channel/SKU pair(s) hold more reserved than stock backs.")
