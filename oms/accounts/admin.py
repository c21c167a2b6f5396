from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from oms.accounts.models import ApiToken, Operator
from oms.accounts.tokens import api_token_create, api_token_revoke


@admin.register(Operator)
class OperatorAdmin(UserAdmin):
    fieldsets = (*(UserAdmin.fieldsets or ()), (_("OMS"), {"fields": ("display_name",)}))
    list_display = ["username", "display_name", "email", "is_active", "is_staff", "last_login"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    list_display = ["name", "operator", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "operator__username"]
    fields = ["operator", "name", "expires_at"]
    actions = ["revoke"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("accounts.manage_tokens")

    def save_model(self, request: HttpRequest, obj: ApiToken, form: ModelForm[ApiToken], change: bool) -> None:
        token, plaintext = api_token_create(operator=obj.operator, name=obj.name, actor=request.user)  # type: ignore[arg-type]
        if obj.expires_at:
            ApiToken.objects.filter(pk=token.pk).update(expires_at=obj.expires_at)
        obj.pk = token.pk
        messages.warning(
            request,
            _("Copy this token now; it is stored hashed and will not be shown again: %(token)s") % {"token": plaintext},
        )

    @admin.action(description=_("Revoke selected tokens"), permissions=["add"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset:
            api_token_revoke(token=token, actor=request.user)  # type: ignore[arg-type]
        messages.success(request, _("Tokens revoked."))
