from django.contrib import admin

from oms.audit.admin_mixins import AuditedModelAdmin
from oms.channels.models import Channel


@admin.register(Channel)
class ChannelAdmin(AuditedModelAdmin[Channel]):
    list_display = ["code", "name", "platform", "classification", "currency", "is_active"]
    list_filter = ["platform", "classification", "is_active"]
    search_fields = ["code", "name"]
