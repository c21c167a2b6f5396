"""Read-only admin views of connector records; shops are connected in the console (credentials are sealed)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from oms.connectors.models import PulledOrder, PullItem, PullRun, Shop, WriteBack


class _ReadOnly(admin.ModelAdmin[Any]):
    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Shop)
class ShopAdmin(_ReadOnly):
    list_display = ["channel", "platform", "status", "last_pull_at", "cursor_at", "enabled", "last_error_code"]
    list_filter = ["platform", "status", "enabled"]
    # The sealed credentials are left out entirely: not even their ciphertext is shown.
    exclude = ["app_key_sealed", "app_secret_sealed", "access_token_sealed"]


@admin.register(PullRun)
class PullRunAdmin(_ReadOnly):
    list_display = ["shop", "kind", "started_at", "fetched", "created", "updated", "failed", "error_code"]
    list_filter = ["kind", "error_code"]


@admin.register(PullItem)
class PullItemAdmin(_ReadOnly):
    list_display = ["shop", "platform_order_id", "state", "reason_code", "reason_field", "attempts", "updated_at"]
    list_filter = ["state", "reason_code"]
    search_fields = ["platform_order_id"]


@admin.register(PulledOrder)
class PulledOrderAdmin(_ReadOnly):
    list_display = ["shop", "platform_order_id", "order", "native_status", "has_share_mismatch", "last_pulled_at"]
    list_filter = ["has_share_mismatch", "phase"]
    search_fields = ["platform_order_id"]


@admin.register(WriteBack)
class WriteBackAdmin(_ReadOnly):
    list_display = ["shop", "kind", "reference", "state", "attempts", "error_code", "updated_at"]
    list_filter = ["kind", "state"]
