"""SKU reads for the API and the console. Read-only."""

from __future__ import annotations

from django.db.models import QuerySet

from oms.catalog.models import Sku


def sku_hot_list() -> QuerySet[Sku]:
    """The SKUs designated hot (爆款), by code. One query."""
    return Sku.objects.filter(is_hot=True).order_by("code")


def sku_by_code(code: str) -> Sku | None:
    """The SKU with this code, or None."""
    return Sku.objects.filter(code=code).first() if code else None
