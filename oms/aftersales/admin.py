from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from oms.aftersales.models import Case, CaseLine, ChannelPolicy
from oms.orders.admin import ReadOnlyAdmin


@admin.register(ChannelPolicy)
class ChannelPolicyAdmin(admin.ModelAdmin[Any]):
    list_display = ("channel", "method", "shipping", "gift")


class CaseLineInline(admin.TabularInline[Any, Any]):
    model = CaseLine
    extra = 0
    can_delete = False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    """Read-only: cases change through their steps (console and API), never by editing rows."""

    list_display = ("number", "order", "kind", "status", "reason_code", "refund_minor", "created_at")
    list_filter = ("kind", "status", "reason_code")
    inlines = [CaseLineInline]
