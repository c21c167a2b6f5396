from django.contrib import admin

from oms.audit.admin_mixins import AuditedModelAdmin
from oms.invoicing.models import ChannelInvoicePolicy, Invoice
from oms.orders.admin import ReadOnlyAdmin


@admin.register(ChannelInvoicePolicy)
class ChannelInvoicePolicyAdmin(AuditedModelAdmin[ChannelInvoicePolicy]):
    """Edits are in the operation log (who changed how a shop invoices)."""

    list_display = ("channel", "issue_on", "split", "after_refund", "shipping", "discounts", "seller", "provider")


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    """Read-only: invoices change through issuing, callbacks and reversal, never by editing rows."""

    list_display = ("number", "order", "kind", "state", "reason", "amount_minor", "provider_number", "created_at")
    list_filter = ("kind", "state", "reason")
    search_fields = ("number", "provider_number", "buyer_title")
