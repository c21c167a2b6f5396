"""A return's re-apportioned line figures (重摊): orders own the write of its lines' versions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Max

from oms.audit.services import audit_record
from oms.core.errors import ValidationFailed
from oms.orders import actions
from oms.orders.models import Order, OrderLine, OrderLineVersion
from oms.orders.services.timeline import order_event_record


@dataclass(frozen=True)
class LineFigures:
    line_id: int
    quantity: int
    paid_minor: int
    shipping_minor: int


@transaction.atomic(savepoint=False)
def order_lines_reapportion(
    *, order: Order, figures: Sequence[LineFigures], source: str, actor: Any
) -> list[OrderLineVersion]:
    """Store each line's new figures as its next version, beside the purchase figures; the caller holds the
    order's lock. Refuses figures for lines of another order or that add up to more than the order received."""
    lines = {ln.pk: ln for ln in OrderLine.objects.filter(order=order)}
    if any(f.line_id not in lines for f in figures):
        raise ValidationFailed("Line figures name a line of another order.", code="bad_lines")
    if sum(f.paid_minor for f in figures) > order.received_minor:
        raise ValidationFailed("The kept lines cannot have paid more than was received.", code="bad_lines")
    latest = dict(
        OrderLineVersion.objects.filter(line_id__in=[f.line_id for f in figures])
        .values("line_id")
        .annotate(v=Max("version"))
        .values_list("line_id", "v")
    )
    rows = [
        OrderLineVersion(
            line_id=f.line_id,
            version=(latest.get(f.line_id) or 0) + 1,
            quantity=f.quantity,
            paid_minor=f.paid_minor,
            shipping_minor=f.shipping_minor,
            source=source,
        )
        for f in figures
    ]
    OrderLineVersion.objects.bulk_create(rows)
    data = {"source": source, "lines": {str(lines[f.line_id].line_no): f.paid_minor for f in figures}}
    order_event_record(order=order, kind="lines_reapportioned", actor=actor, data=data)
    audit_record(actor=actor, action=actions.ORDER_LINES_REAPPORTION, obj=order, after=data)
    return rows
