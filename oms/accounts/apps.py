from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "oms.accounts"
    label = "accounts"
    verbose_name = _("Operators and permissions")

    def ready(self) -> None:
        from oms.accounts.roles import sync_roles_after_migrate

        post_migrate.connect(sync_roles_after_migrate, dispatch_uid="oms.accounts.sync_roles")
