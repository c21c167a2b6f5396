from typing import Any

from django.core.management.base import BaseCommand, CommandError

from oms.inventory.services.verify import stock_verify


class Command(BaseCommand):
    help = "Re-derive every stock counter from the ledgers and report drift (exit status 1 on any drift)."

    def handle(self, *args: Any, **options: Any) -> None:
        report = stock_verify()
        checked = ", ".join(f"{n} {name}" for name, n in report.checked.items())
        for d in report.drift[:50]:
            self.stdout.write(f"DRIFT {d.table} {d.key} {d.counter}: stored {d.stored}, ledger says {d.derived}")
        for sku, claimed, pool in report.over_committed[:50]:
            self.stdout.write(f"OVER-COMMITTED sku {sku}: quotas {claimed} > pool {pool}")
        if not report.ok:
            raise CommandError(f"{len(report.drift)} counter(s) drift from the ledger (checked {checked}).")
        self.stdout.write(self.style.SUCCESS(f"No drift: checked {checked}."))
