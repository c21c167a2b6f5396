"""Seller remark and invoice request edits (客服备注, 开票需求): small changes, fully recorded."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from oms.audit.services import audit_record, model_snapshot
from oms.core.actors import Actor
from oms.core.errors import Conflict, ValidationFailed
from oms.orders import actions
from oms.orders.domain.fields import FieldReader
from oms.orders.domain.intake import invoice_read
from oms.orders.domain.status import TERMINAL, Status, status_label
from oms.orders.lock_objects import order_lock
from oms.orders.models import INVOICE_FIELDS, Order
from oms.orders.services.invoice_profile import invoice_columns_set
from oms.orders.services.timeline import order_event_record

FIELDS = ["seller_remark", *INVOICE_FIELDS]


@transaction.atomic(durable=True)
def order_remarks_update(
    *, order: Order, actor: Actor, seller_remark: str | None = None, invoice: Mapping[str, Any] | None = None
) -> Order:
    """Change the seller remark and/or the invoice request; the buyer remark is the buyer's and stays.
    Refused on a closed, cancelled or invalid order, whose record is final."""
    reader = FieldReader()
    remark = reader.text({"seller_remark": seller_remark}, "seller_remark", "", max_len=500) if seller_remark else ""
    parsed = invoice_read(reader, invoice) if invoice is not None else None
    if reader.errors:
        raise ValidationFailed(f"{len(reader.errors)} field(s) are invalid.", details=reader.errors)
    locked = order_lock(pk=order.pk)
    if Status(locked.status) in TERMINAL:
        raise Conflict(
            f"Order {locked.number} is {status_label(locked.status)}; its remarks can no longer change.",
            code="order_final",
            extra={"current_status": locked.status},
        )
    before = model_snapshot(locked, FIELDS)
    if seller_remark is not None:
        locked.seller_remark = remark
    if parsed is not None:
        invoice_columns_set(locked, parsed)
    after = model_snapshot(locked, FIELDS)
    if after == before:
        return locked
    locked.updated_at = timezone.now()
    locked.save(update_fields=[*FIELDS, "updated_at"])
    changed = {k: after[k] for k in FIELDS if after[k] != before[k]}
    order_event_record(order=locked, kind="remarks_changed", actor=actor, data=changed)
    audit_record(actor=actor, action=actions.ORDER_REMARKS, obj=locked, before=before, after=after)
    return locked
