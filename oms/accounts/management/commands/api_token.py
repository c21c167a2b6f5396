from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from oms.accounts.models import ApiToken, Operator
from oms.accounts.tokens import api_token_create, api_token_revoke


class Command(BaseCommand):
    help = "Issue (create OPERATOR NAME) or revoke (revoke PREFIX) an API token."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        create = sub.add_parser("create", help="Issue a token; the secret is printed once.")
        create.add_argument("operator")
        create.add_argument("name")
        revoke = sub.add_parser("revoke", help="Revoke a token by its prefix.")
        revoke.add_argument("prefix")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["verb"] == "create":
            operator = Operator.objects.filter(username=options["operator"]).first()
            if operator is None:
                raise CommandError(f"No operator named {options['operator']!r}.")
            _token, plaintext = api_token_create(operator=operator, name=options["name"])
            self.stdout.write(plaintext)
        else:
            token = ApiToken.objects.select_related("operator").filter(prefix=options["prefix"]).first()
            if token is None:
                raise CommandError(f"No token with prefix {options['prefix']!r}.")
            api_token_revoke(token=token, actor=token.operator)
            self.stdout.write(f"Revoked {token}.")
