"""Configuration screens for orders: platform SKU mappings are edited here; orders, customers and
payments are shown read-only (they change only through the services, which keep the timeline)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from oms.audit.admin_mixins import AuditedModelAdmin
from oms.orders.models import Customer, Order, Payment, PlatformSkuMapping, RefundSettlement


@admin.register(PlatformSkuMapping)
class PlatformSkuMappingAdmin(AuditedModelAdmin[PlatformSkuMapping]):
    list_display = ["channel", "platform_sku_code", "sku", "created_at"]
    list_filter = ["channel"]
    search_fields = ["platform_sku_code", "sku__code", "sku__name"]
    autocomplete_fields = ["sku"]


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ["number", "channel", "platform_order_id", "status", "payment_status", "payable_minor", "created_at"]
    list_filter = ["status", "payment_status", "channel", "order_type"]
    search_fields = ["=number", "=platform_order_id", "=receiver_phone"]
    show_full_result_count = False


@admin.register(Customer)
class CustomerAdmin(ReadOnlyAdmin):
    list_display = ["platform_buyer_id", "channel", "nickname", "name", "phone", "created_at"]
    list_filter = ["channel"]
    search_fields = ["=platform_buyer_id", "=phone", "nickname"]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = [
        "order",
        "method",
        "transaction_id",
        "kind",
        "amount_minor",
        "paid_at",
        "needs_refund",
        "refund_due_minor",
    ]
    list_filter = ["method", "kind", "needs_refund"]
    search_fields = ["=transaction_id", "=order__number"]


@admin.register(RefundSettlement)
class RefundSettlementAdmin(ReadOnlyAdmin):
    list_display = ["refund", "payment", "amount_minor", "at"]
    search_fields = ["=refund__transaction_id", "=payment__transaction_id", "=payment__order__number"]
