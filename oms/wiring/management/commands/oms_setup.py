import os
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from psycopg import sql

from oms.accounts.roles import sync_roles
from oms.reports.assets import assets_install

# What the application's own PostgreSQL role may do: read and write rows, use sequences. It owns nothing, so it
# cannot alter tables, disable triggers (the operation log's guards) or truncate; it is no superuser, so it
# cannot set session_replication_role either.
APP_ROLE_GRANTS = (
    "GRANT CONNECT ON DATABASE {db} TO {role}",
    "GRANT USAGE ON SCHEMA public TO {role}",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
    "GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {role}",
    "GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO {role}",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {role}",
)


class Command(BaseCommand):
    """Setting up a database touches several apps (schema, roles, chart assets): it lives at the top, in wiring."""

    help = "Create or upgrade the database schema and the seeded roles (safe to re-run)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--app-role",
            default="",
            help="PostgreSQL: also create/refresh this login role for running the application (no superuser, owns "
            "nothing; password from OMS_APP_ROLE_PASSWORD). Run setup itself as the schema owner.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=options["verbosity"])
        sync_roles()
        for installed in assets_install():
            self.stdout.write(f"Installed {installed} (pinned by version and sha512).")
        if options["app_role"]:
            app_role_grant(options["app_role"], os.environ.get("OMS_APP_ROLE_PASSWORD", ""))
            self.stdout.write(f"Application role {options['app_role']!r} can read and write rows, nothing more.")
        self.stdout.write(self.style.SUCCESS("Schema and roles are up to date."))


def app_role_grant(role: str, password: str) -> None:
    if connection.vendor != "postgresql":
        raise CommandError("--app-role is for PostgreSQL.")
    names = {"role": sql.Identifier(role), "db": sql.Identifier(connection.settings_dict["NAME"])}
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        verb = "ALTER" if cursor.fetchone() else "CREATE"
        attributes = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
        statement = sql.SQL(verb + " ROLE {role} " + attributes).format(**names)
        if password:
            statement = sql.Composed([statement, sql.SQL(" PASSWORD {p}").format(p=sql.Literal(password))])
        cursor.execute(statement)
        for grant in APP_ROLE_GRANTS:
            cursor.execute(sql.SQL(grant).format(**names))
