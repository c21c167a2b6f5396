from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from oms.core.actors import SYSTEM
from oms.core.context import request_context
from oms.fulfillment.services.pipeline import pipeline_run
from oms.fulfillment.services.stockouts import stockouts_resolve


class Command(BaseCommand):
    help = "Run the fulfilment pipeline once: stockouts against new stock, then review, allocation, courier, dispatch."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=None, help="Orders per batch (default from settings).")

    def handle(self, *args: Any, **options: Any) -> None:
        with request_context(channel="cli"):
            stock = stockouts_resolve(actor=SYSTEM)
            summary = pipeline_run(actor=SYSTEM, batch_size=options["batch_size"])
        self.stdout.write(
            f"stockouts resolved {stock.resolved}, reduced {stock.reduced}, cancelled {stock.cancelled}; "
            f"reviewed {summary.reviewed}, held {summary.held}, allocated {summary.allocated}, "
            f"split proposed {summary.split_proposed}, short {summary.short}, couriers {summary.couriers}, "
            f"no courier {summary.no_courier}, dispatched {summary.dispatched}"
        )
