import os
import secrets
from pathlib import Path
from typing import Any

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from oms.accounts import actions
from oms.accounts.models import Operator
from oms.accounts.roles import ADMINISTRATOR
from oms.audit.services import audit_record
from oms.core.actors import CLI


class Command(BaseCommand):
    help = "Create (or reset the password of) an administrator and print the login."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="admin")
        parser.add_argument(
            "--password",
            default=os.environ.get("OMS_ADMIN_PASSWORD", ""),
            help="Default: a random one, printed.",
        )
        parser.add_argument(
            "--remember",
            metavar="FILE",
            default="",
            help="Keep the demo password in FILE and reuse it, so repeated runs print the same login.",
        )

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        username = options["username"]
        operator = Operator.objects.filter(username=username).first()
        remember = Path(options["remember"]) if options["remember"] else None
        password = options["password"]
        if not password and remember is not None and remember.exists():
            password = remember.read_text().strip()
        password = password or secrets.token_urlsafe(12)
        if remember is not None:
            remember.parent.mkdir(parents=True, exist_ok=True)
            remember.write_text(password + "\n")
            remember.chmod(0o600)
        created = operator is None
        if operator is None:
            operator = Operator(username=username, display_name="管理员")
        operator.is_staff = True
        operator.is_superuser = True
        operator.is_active = True
        operator.set_password(password)
        operator.save()
        operator.groups.add(Group.objects.get(name=ADMINISTRATOR))
        audit_record(
            actor=CLI, action=actions.OPERATOR_CREATE_ADMIN if created else actions.OPERATOR_RESET_ADMIN, obj=operator
        )
        self.stdout.write(self.style.SUCCESS(f"Administrator login  username: {username}  password: {password}"))
