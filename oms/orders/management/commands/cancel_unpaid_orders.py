from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from oms.core.context import request_context
from oms.orders.services.cancel import orders_cancel_unpaid


class Command(BaseCommand):
    help = "Cancel orders still pending payment past the timeout (OMS['UNPAID_TIMEOUT_MINUTES']); safe to schedule."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--minutes", type=int, default=None, help="Override the timeout for this run.")

    def handle(self, *args: Any, **options: Any) -> None:
        with request_context(channel="cli"):
            numbers = orders_cancel_unpaid(timeout_minutes=options["minutes"])
        for number in numbers:
            self.stdout.write(f"cancelled {number}")
        self.stdout.write(self.style.SUCCESS(f"{len(numbers)} unpaid order(s) cancelled."))
