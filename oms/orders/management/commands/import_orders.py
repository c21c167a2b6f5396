from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from oms.accounts.models import Operator
from oms.core.actors import SYSTEM, Actor
from oms.core.context import request_context
from oms.orders.services.file_import import orders_import_file, report_write_csv, report_write_xlsx


class Command(BaseCommand):
    help = (
        "Import orders from a CSV or XLSX file (one row per order line; layout in the README). "
        "Re-running the same file imports nothing twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--operator", default="", help="Username recorded as the importer (default: system).")
        parser.add_argument(
            "--report", type=Path, default=None, help="Where to write the row-level error report (.csv, or .xlsx)."
        )
        parser.add_argument("--chunk", type=int, default=500, help="Orders per intake batch.")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        actor: Actor = SYSTEM
        if options["operator"]:
            operator = Operator.objects.filter(username=options["operator"]).first()
            if operator is None:
                raise CommandError(f"No operator {options['operator']!r}.")
            actor = operator
        with request_context(channel="cli"), path.open("rb") as stream:
            try:
                summary = orders_import_file(
                    stream=stream,
                    filename=path.name,
                    actor=actor,
                    chunk=options["chunk"],
                    progress=not options["no_progress"],
                )
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        report_path: Path = options["report"] or path.with_name(path.stem + ".errors.csv")
        if summary.report and report_path.suffix.lower() == ".xlsx":
            report_write_xlsx(report=summary.report, path=str(report_path))
        elif summary.report:
            with report_path.open("w", encoding="utf-8-sig", newline="") as out:
                report_write_csv(report=summary.report, stream=out)
        counts = summary.as_dict()
        self.stdout.write(
            f"{counts['rows']} rows, {counts['orders']} orders: {counts['created']} imported, "
            f"{counts['existing']} already imported, {counts['failed']} refused."
        )
        if summary.report:
            self.stdout.write(self.style.WARNING(f"Error report: {report_path}"))
