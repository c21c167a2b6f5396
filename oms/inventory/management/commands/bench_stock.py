import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Stock benchmarks on PostgreSQL: B2 hot-SKU reservations, B4 full quota recompute; writes bench/results/."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("which", nargs="?", default="all", choices=["all", "b2", "b4"])
        parser.add_argument("--clients", type=int, default=64, help="B2 concurrent clients (processes).")
        parser.add_argument("--attempts", type=int, default=80, help="B2 reservation attempts per client.")
        parser.add_argument("--rounds", type=int, default=5, help="B2 interleaved rounds (median reported).")
        parser.add_argument("--skus", type=int, default=100_000, help="B4 SKUs (× 5 channels).")

    def handle(self, *args: Any, **options: Any) -> None:
        sys.path.insert(0, str(settings.BASE_DIR))  # bench/ lives beside the package, not inside it
        settings.DEBUG = False  # as in production: DEBUG logs every query's SQL text, which costs CPU per call
        from bench.stock import run, table

        result = run(
            options["which"],
            clients=options["clients"],
            attempts_per_client=options["attempts"],
            rounds=options["rounds"],
            skus=options["skus"],
        )
        self.stdout.write(table(result))
        self.stdout.write(f"\nSaved {result['path']}")
        b2 = result.get("b2_hot_sku")
        if b2 and (b2["oversold"] or b2["verify_drift"]):
            raise CommandError(f"B2 broke a stock guarantee: oversold {b2['oversold']}, drift {b2['verify_drift']}")
