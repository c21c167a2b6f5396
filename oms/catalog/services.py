"""Changes to SKU master data made by operators outside the admin: designating hot SKUs (爆款)."""

from __future__ import annotations

from django.db import transaction

from oms.audit.services import audit_record
from oms.catalog import actions
from oms.catalog.models import Sku
from oms.core.actors import Actor
from oms.core.errors import NotFound


@transaction.atomic(durable=True)
def sku_hot_set(*, code: str, is_hot: bool, actor: Actor, reason: str = "") -> Sku:
    """Designate (``is_hot=True``) or undesignate a hot SKU, whose one-at-a-time channel reservations are then
    queued and granted in batches. Setting the flag it already has changes nothing and logs nothing.

    The row lock is FOR NO KEY UPDATE: reservations and ledger rows inserted meanwhile take KEY SHARE locks on
    the SKU through their foreign keys, and a plain FOR UPDATE would stall a flash sale's checkouts behind it."""
    sku = Sku.objects.select_for_update(no_key=True).filter(code=code).first()
    if sku is None:
        raise NotFound(f"No SKU {code}.")
    if sku.is_hot == is_hot:
        return sku
    before = {"is_hot": sku.is_hot}
    sku.is_hot = is_hot
    sku.save(update_fields=["is_hot"])
    audit_record(
        actor=actor, action=actions.SKU_SET_HOT, obj=sku, before=before, after={"is_hot": is_hot}, reason=reason
    )
    return sku
