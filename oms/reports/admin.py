from django.contrib import admin

from oms.reports.models import ShipByPolicy


@admin.register(ShipByPolicy)
class ShipByPolicyAdmin(admin.ModelAdmin):
    list_display = ("channel", "hours", "warn_hours", "presale_days")
