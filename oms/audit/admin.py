from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from oms.audit.models import OperationLog


@admin.register(OperationLog)
class OperationLogAdmin(admin.ModelAdmin[OperationLog]):
    list_display = ["at", "actor_name", "action", "object_type", "object_repr", "via", "client_address"]
    list_filter = ["action", "object_type", "via", ("at", admin.DateFieldListFilter)]
    search_fields = ["actor_name", "action", "object_id", "object_repr", "request_id", "reason"]
    date_hierarchy = "at"
    list_select_related = ["actor"]
    readonly_fields = [f.name for f in OperationLog._meta.fields]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
