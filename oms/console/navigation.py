"""The console's menu. Each entry names the permission it needs; operators see only what they may use."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavItem:
    label: str | Promise
    url_name: str
    perm: str | None  # None: any logged-in operator


NAV: list[NavItem] = [
    NavItem(_("Dashboard"), "console:home", None),
    NavItem(_("Orders"), "console:orders", "orders.view_order"),
    NavItem(_("New order"), "console:order_new", "orders.add_order"),
    NavItem(_("Customers"), "console:customers", "orders.view_customer"),
    NavItem(_("Import orders"), "console:orders_import", "orders.import_orders"),
    NavItem(_("Merge"), "console:merge", "orders.merge"),
    NavItem(_("Interceptions"), "console:interceptions", "review.view_interception"),
    NavItem(_("After-sales 售后"), "console:aftersales", "aftersales.view_case"),
    NavItem(_("Invoices 发票"), "console:invoicing", "invoicing.view_invoice"),
    NavItem(_("Rules"), "console:rules", "review.view_rule"),
    NavItem(_("Stockouts"), "console:stockouts", "fulfillment.view_stockout"),
    NavItem(_("Dispatch"), "console:dispatch", "fulfillment.view_shipment"),
    NavItem(_("Outbox"), "console:outbox", "outbox.view_outboxmessage"),
    NavItem(_("Shops 店铺"), "console:shops", "connectors.view_shop"),
    NavItem(_("Stock 库存"), "console:stock", "inventory.view_stock"),
    NavItem(_("Ship-by deadlines"), "console:ship_by", "orders.view_order"),
    NavItem(_("Reports"), "console:reports_sales", "reports.view_sales_report"),
    NavItem(_("Stock report"), "console:reports_stock", "reports.view_stock_report"),
    NavItem(_("Operations report"), "console:reports_operations", "reports.view_operations_report"),
    NavItem(_("Customers report"), "console:reports_customers", "reports.view_customer_report"),
    NavItem(_("Operation log"), "console:operation_log", "audit.view_operationlog"),
    NavItem(_("Exports"), "console:exports", None),
]

# Configuration screens live in the Django admin; shown to anyone with a view permission there.
ADMIN_NAV: list[NavItem] = [
    NavItem(_("SKUs"), "admin:catalog_sku_changelist", "catalog.view_sku"),
    NavItem(_("Channels"), "admin:channels_channel_changelist", "channels.view_channel"),
    NavItem(_("Platform SKU mappings"), "admin:orders_platformskumapping_changelist", "orders.view_platformskumapping"),
    NavItem(_("Warehouses"), "admin:inventory_warehouse_changelist", "inventory.view_warehouse"),
    NavItem(_("After-sales policies"), "admin:aftersales_channelpolicy_changelist", "aftersales.view_channelpolicy"),
    NavItem(
        _("Invoice policies"), "admin:invoicing_channelinvoicepolicy_changelist", "invoicing.view_channelinvoicepolicy"
    ),
    NavItem(_("Couriers"), "admin:fulfillment_courier_changelist", "fulfillment.view_courier"),
    NavItem(_("Webhook endpoints"), "admin:outbox_webhookendpoint_changelist", "outbox.view_webhookendpoint"),
    NavItem(_("Operation log"), "admin:audit_operationlog_changelist", "audit.view_operationlog"),
    NavItem(_("Ship-by rules"), "admin:reports_shipbypolicy_changelist", "reports.view_shipbypolicy"),
    NavItem(_("Operators"), "admin:accounts_operator_changelist", "accounts.view_operator"),
]
