from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from oms.channels.services.push import stock_push_all
from oms.core.actors import STOCK_PUSH_CLI


class Command(BaseCommand):
    help = "Push changed available-to-sell figures of the online channels to their platforms (via the outbox)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--channel", action="append", help="Only this channel code (repeatable).")
        parser.add_argument(
            "--full", action="store_true", help="Compare every SKU of the channel, not only those in the change log."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        results = stock_push_all(actor=STOCK_PUSH_CLI, channel_codes=options["channel"], full=options["full"])
        if not results:
            self.stdout.write("No active online channel to push.")
        for r in results:
            if r.skipped:
                self.stdout.write(f"{r.channel}: skipped, no webhook endpoint subscribes to its stock topic.")
            else:
                self.stdout.write(
                    self.style.SUCCESS(
                        f"{r.channel}: {r.skus} SKU(s) in {len(r.event_ids)} event(s); cursor {r.cursor}."
                    )
                )
