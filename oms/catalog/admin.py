from django.contrib import admin
from django.http import HttpRequest

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
        "tax_code",
        "is_gift",
        "is_bundle",
        "is_active",
        "is_hot",
    ]
    list_filter = ["is_active", "is_hot", "is_gift", "is_bundle", "category"]
    search_fields = ["code", "name", "barcode"]
    list_select_related = ["category"]
    inlines = [BundleComponentInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Sku | None = None) -> list[str]:
        # The hot flag has its own permission (the console and the API check it too); editing the rest of a
        # SKU does not grant it.
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.has_perm("catalog.designate_hot_sku"):
            readonly.append("is_hot")
        return readonly


@admin.register(Category)
class CategoryAdmin(AuditedModelAdmin[Category]):
    list_display = ["code", "name", "parent"]
    search_fields = ["code", "name"]
