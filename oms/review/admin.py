from django.contrib import admin

from oms.audit.admin_mixins import AuditedModelAdmin
from oms.review.models import BlacklistEntry, Interception, RefundRequest, Rule


@admin.register(Rule)
class RuleAdmin(AuditedModelAdmin[Rule]):
    list_display = ["kind", "priority", "code", "name", "condition", "enabled"]
    list_filter = ["kind", "enabled"]
    search_fields = ["code", "name", "condition"]
    list_editable = ["enabled"]


@admin.register(BlacklistEntry)
class BlacklistAdmin(AuditedModelAdmin[BlacklistEntry]):
    list_display = ["kind", "value", "note", "created_at"]
    list_filter = ["kind"]
    search_fields = ["value", "note"]


@admin.register(Interception)
class InterceptionAdmin(admin.ModelAdmin[Interception]):
    list_display = ["order", "reason_code", "reason", "state", "after_review", "created_at", "resolved_by"]
    list_filter = ["state", "reason_code", "after_review"]
    search_fields = ["order__number", "reason"]
    list_select_related = ["order", "resolved_by"]
    readonly_fields = [f.name for f in Interception._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(RefundRequest)
class RefundRequestAdmin(admin.ModelAdmin[RefundRequest]):
    list_display = ["platform_refund_id", "order", "amount_minor", "is_open", "received_at"]
    list_filter = ["is_open"]
    search_fields = ["platform_refund_id", "order__number"]
    readonly_fields = [f.name for f in RefundRequest._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False
