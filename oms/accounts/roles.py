"""The seeded roles and their per-action permissions. Deny by default: a role has exactly what is listed.

Later work adds its actions here. Every listed permission must exist, or migrate fails loudly.
"""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig

ADMINISTRATOR = "administrator"

# role code -> (display name, permissions as "app_label.codename"); the administrator role gets all.
ROLES: dict[str, tuple[str, list[str]]] = {
    ADMINISTRATOR: ("管理员 Administrator", []),
    "customer_service": (
        "客服 Customer service",
        [
            "catalog.view_sku",
            "channels.view_channel",
            "inventory.view_warehouse",
            "orders.view_order",
            "orders.add_order",
            "orders.import_orders",
            "inventory.view_stock",
            "channels.view_channel_stock",
            "orders.cancel_order",
            "orders.edit_remarks",
            "orders.view_customer",
            "orders.change_customer",
            "orders.view_payment",
            "review.view_interception",
            "fulfillment.view_stockout",
            "fulfillment.view_shipment",
            "connectors.view_shop",
            "reports.view_sales_report",
            "reports.view_operations_report",
            "aftersales.view_case",
            "aftersales.add_case",
            "aftersales.approve_case",
            "aftersales.override_policy",
            "invoicing.view_invoice",
            "invoicing.edit_invoice_details",
        ],
    ),
    "order_reviewer": (
        "审单员 Order reviewer",
        [
            "catalog.view_sku",
            "channels.view_channel",
            "inventory.view_warehouse",
            "orders.view_order",
            "orders.review",
            "inventory.view_stock",
            "channels.view_channel_stock",
            "orders.split",
            "orders.merge",
            "orders.cancel_order",
            "orders.edit_remarks",
            "orders.view_customer",
            "orders.view_payment",
            "review.view_rule",
            "review.view_interception",
            "review.release_interception",
            "review.view_blacklistentry",
            "review.add_blacklistentry",
            "review.delete_blacklistentry",
            "fulfillment.view_stockout",
            "orders.view_platformskumapping",
            "orders.add_platformskumapping",
            "orders.change_platformskumapping",
            "connectors.view_shop",
            "connectors.pull_shop",
            "connectors.retry_pullitem",
            "reports.view_operations_report",
        ],
    ),
    "warehouse_coordinator": (
        "仓库协调 Warehouse coordinator",
        [
            "catalog.view_sku",
            "channels.view_channel",
            "inventory.view_warehouse",
            "fulfillment.view_courier",
            "inventory.view_stock",
            "inventory.receive_stock",
            "inventory.adjust_stock",
            "inventory.transfer_stock",
            "inventory.return_stock",
            "inventory.verify_stock",
            "channels.view_channel_stock",
            "channels.view_allocationrule",
            "channels.add_allocationrule",
            "channels.change_allocationrule",
            "channels.delete_allocationrule",
            "channels.allocate_stock",
            "channels.push_channel_stock",
            "catalog.designate_hot_sku",
            "outbox.view_outboxmessage",
            "outbox.retry_outboxmessage",
            "orders.view_order",
            "fulfillment.allocate",
            "fulfillment.transfer_warehouse",
            "fulfillment.assign_courier",
            "fulfillment.dispatch_order",
            "fulfillment.ship_by_hand",
            "fulfillment.view_stockout",
            "fulfillment.view_shipment",
            "fulfillment.view_allocationdecision",
            "fulfillment.view_warehousetransfer",
            "reports.view_operations_report",
            "reports.view_stock_report",
            "aftersales.view_case",
            "aftersales.receive_return",
            "aftersales.inspect_return",
        ],
    ),
    "finance": (
        "财务 Finance",
        [
            "catalog.view_sku",
            "channels.view_channel",
            "inventory.view_warehouse",
            "inventory.view_subsidiary",
            "audit.view_operationlog",
            "orders.view_order",
            "orders.view_customer",
            "orders.view_payment",
            "orders.record_payment",
            "inventory.view_stock",
            "channels.view_channel_stock",
            "review.view_interception",
            "review.release_interception",
            "reports.view_sales_report",
            "reports.view_cash_report",
            "reports.view_customer_report",
            "aftersales.view_case",
            "aftersales.refund_case",
            "invoicing.view_invoice",
            "invoicing.issue_invoice",
            "invoicing.reverse_invoice",
            "invoicing.export_invoice",
            "invoicing.view_channelinvoicepolicy",
            "invoicing.change_channelinvoicepolicy",
            "invoicing.edit_invoice_details",
        ],
    ),
}


def sync_roles() -> None:
    """Create or update each role's group so it holds exactly its listed permissions."""
    from django.contrib.auth.models import Group, Permission

    all_perms = {
        f"{p.content_type.app_label}.{p.codename}": p for p in Permission.objects.select_related("content_type")
    }
    for code, (_label, perm_names) in ROLES.items():
        group, _ = Group.objects.get_or_create(name=code)
        if code == ADMINISTRATOR:
            wanted = list(all_perms.values())
        else:
            missing = sorted(set(perm_names) - all_perms.keys())
            if missing:
                raise LookupError(f"Role {code} lists unknown permissions: {', '.join(missing)}")
            wanted = [all_perms[name] for name in perm_names]
        group.permissions.set(wanted)


def sync_roles_after_migrate(sender: AppConfig, **kwargs: Any) -> None:
    # Permissions are created app by app on post_migrate, which fires only for apps with models, in
    # INSTALLED_APPS order; on the last such app's signal every permission exists.
    from django.apps import apps

    with_models = [config for config in apps.get_app_configs() if config.models_module is not None]
    if with_models and sender.label == with_models[-1].label:
        sync_roles()
