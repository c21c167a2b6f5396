from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from oms.core.actors import AUTO_MERGE
from oms.splitmerge.services.auto import orders_auto_merge


class Command(BaseCommand):
    help = "Merge every group of mergeable orders not yet reviewed (same buyer, receiver, address, shop, COD)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--max-orders", type=int, default=5, help="At most this many orders per merge.")

    def handle(self, *args: Any, **options: Any) -> None:
        merged = orders_auto_merge(actor=AUTO_MERGE, max_orders=options["max_orders"])
        self.stdout.write(f"Merged {len(merged)} group(s): {', '.join(o.number for o in merged) or '—'}")
