from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from oms.reports.assets import VENDOR_DIR, AssetError, assets_install


class Command(BaseCommand):
    help = "Install the pinned browser libraries (ECharts) the console serves itself (checked by sha512)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="Download and check again even if installed.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            installed = assets_install(force=options["force"])
        except AssetError as exc:
            raise CommandError(str(exc)) from exc
        for line in installed:
            self.stdout.write(self.style.SUCCESS(f"Installed {line} into {VENDOR_DIR}."))
        if not installed:
            self.stdout.write("Browser libraries are up to date.")
