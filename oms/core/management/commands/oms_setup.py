from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand

from oms.accounts.roles import sync_roles
from oms.reports.assets import assets_install


class Command(BaseCommand):
    help = "Create or upgrade the database schema and the seeded roles (safe to re-run)."

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=options["verbosity"])
        sync_roles()
        for installed in assets_install():
            self.stdout.write(f"Installed {installed} (pinned by version and sha512).")
        self.stdout.write(self.style.SUCCESS("Schema and roles are up to date."))
