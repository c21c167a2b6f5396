from django.contrib import admin

from oms.audit.admin_mixins import AuditedModelAdmin
from oms.inventory.models import Subsidiary, Warehouse


@admin.register(Subsidiary)
class SubsidiaryAdmin(AuditedModelAdmin[Subsidiary]):
    list_display = ["code", "name", "tax_id"]
    search_fields = ["code", "name", "tax_id"]


@admin.register(Warehouse)
class WarehouseAdmin(AuditedModelAdmin[Warehouse]):
    list_display = ["code", "name", "subsidiary", "province", "city", "priority", "is_active"]
    list_filter = ["subsidiary", "is_active"]
    search_fields = ["code", "name"]
    list_select_related = ["subsidiary"]
