from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from oms.channels.models import Channel
from oms.demo.fulfillment import load_demo_fulfilment
from oms.demo.invoicing import load_demo_invoices
from oms.demo.master_data import load_master_data
from oms.demo.orders import load_demo_orders
from oms.demo.stock import load_stock_demo


class Command(BaseCommand):
    help = "Load realistic zh_CN demo data once (channels, warehouses, SKUs, couriers); re-running is a no-op."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=2026, help="Random seed, for reproducible data.")

    def handle(self, *args: Any, **options: Any) -> None:
        if Channel.objects.exists():
            self.stdout.write("Demo data already loaded; nothing to do.")
            return
        summary = load_master_data(seed=options["seed"])
        self.stdout.write(self.style.SUCCESS(f"Demo data loaded: {summary}"))
        self.stdout.write(self.style.SUCCESS(f"Demo stock: {load_stock_demo(seed=options['seed'])}"))
        self.stdout.write(self.style.SUCCESS(f"Demo orders: {load_demo_orders(seed=options['seed'])}"))
        self.stdout.write(self.style.SUCCESS(f"Demo fulfilment: {load_demo_fulfilment(seed=options['seed'])}"))
        self.stdout.write(self.style.SUCCESS(f"Demo invoices: {load_demo_invoices()}"))
