from django.contrib import admin

from oms.audit.admin_mixins import AuditedModelAdmin
from oms.fulfillment.models import Courier


@admin.register(Courier)
class CourierAdmin(AuditedModelAdmin[Courier]):
    list_display = ["code", "name", "supports_cod", "max_weight_g", "is_active"]
    list_filter = ["is_active", "supports_cod"]
    search_fields = ["code", "name"]
