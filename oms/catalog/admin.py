from django.contrib import admin

from oms.audit.admin_mixins import AuditedModelAdmin
from oms.catalog.models import BundleComponent, Category, Sku


class BundleComponentInline(admin.TabularInline[BundleComponent, Sku]):
    model = BundleComponent
    fk_name = "bundle"
    extra = 0
    autocomplete_fields = ["component"]


@admin.register(Sku)
class SkuAdmin(AuditedModelAdmin[Sku]):
    list_display = [
        "code",
        "name",
        "barcode",
        "category",
        "weight_g",
        "volume_cm3",
        "tax_rate_bp",
        "is_gift",
        "is_bundle",
        "is_active",
    ]
    list_filter = ["is_active", "is_gift", "is_bundle", "category"]
    search_fields = ["code", "name", "barcode"]
    list_select_related = ["category"]
    inlines = [BundleComponentInline]


@admin.register(Category)
class CategoryAdmin(AuditedModelAdmin[Category]):
    list_display = ["code", "name", "parent"]
    search_fields = ["code", "name"]
