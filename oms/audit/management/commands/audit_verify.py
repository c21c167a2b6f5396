from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from oms.audit.verify import audit_check_run


class Command(BaseCommand):
    help = "Verify the operation log's hash chain (changed, removed, inserted or back-dated rows); exit 1 if broken."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--show", type=int, default=20, help="How many problems to list.")

    def handle(self, *args: Any, **options: Any) -> None:
        check = audit_check_run()
        self.stdout.write(f"{check.rows} rows, chain head {check.head_seq}, {check.seconds:.2f} s")
        if check.ok:
            self.stdout.write(self.style.SUCCESS("The operation log is intact."))
            return
        for problem in check.problems[: options["show"]]:
            self.stdout.write(f"  {problem}")
        raise CommandError(f"The operation log was tampered with: {len(check.problems)} problem(s).")
