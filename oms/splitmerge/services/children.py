"""Making the orders that replace retired ones: headers, lines with their money, payments received,
reservations moved in the same transaction, lineage, timeline and audit. Shared by split, merge and
un-merge."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from oms.audit.services import audit_record
from oms.core.domain.money import apportion
from oms.core.errors import Conflict
from oms.fulfillment.services.stockouts import stockouts_cancel
from oms.inventory.models import Reservation, ReservationScope, ReservationState
from oms.inventory.services.reservations import ReservationAllocation, reservations_transfer
from oms.orders.domain.payments import CARRIED_METHOD, derive_payment_status
from oms.orders.domain.split import LineAmounts
from oms.orders.domain.status import Status
from oms.orders.models import Order, OrderEvent, OrderLine, OrderPlatformRef, Payment, PaymentKind
from oms.orders.services.intake import order_number_new
from oms.orders.services.stock_link import REF_TYPE
from oms.orders.services.timeline import actor_name, actor_or_none, order_event_build, order_transition
from oms.review.models import Interception, InterceptionState
from oms.splitmerge.models import LineageKind, LineOrigin, OrderLineage

# Orders that may be split or merged: paid, and not yet handed to the warehouse.
WORKABLE = (Status.PENDING_REVIEW, Status.PENDING_SPLIT, Status.PENDING_DISPATCH)

HEADER_FIELDS = (
    "channel_id",
    "order_type",
    "classification",
    "customer_id",
    "receiver_name",
    "receiver_phone",
    "receiver_province",
    "receiver_city",
    "receiver_district",
    "receiver_address",
    "receiver_postcode",
    "buyer_remark",
    "seller_remark",
    "invoice_kind",
    "invoice_title",
    "invoice_tax_id",
    "invoice_email",
    "is_presale",
    "is_cod",
    "currency",
    "placed_at",
    "paid_at",
    "reviewed_at",
    "warehouse_id",
)


@dataclass
class ChildLine:
    source: OrderLine
    amounts: LineAmounts
    promotions: list[dict[str, object]]
    origins: list[tuple[OrderLine, int]]  # (source line, units) — several for nothing but kept general


@dataclass
class ChildSpec:
    header_from: Order
    lines: list[ChildLine]
    platform_order_ids: list[str]
    overrides: dict[str, Any] = field(default_factory=dict)


def line_amounts(line: OrderLine) -> LineAmounts:
    return LineAmounts(
        quantity=line.quantity,
        unit_price_minor=line.unit_price_minor,
        gross_minor=line.gross_minor,
        line_discount_minor=line.line_discount_minor,
        order_discount_minor=line.order_discount_minor,
        shipping_minor=line.shipping_minor,
        paid_minor=line.paid_minor,
    )


def check_workable(orders: Sequence[Order]) -> None:
    for order in orders:
        if order.status not in WORKABLE:
            raise Conflict(
                f"Order {order.number} is {order.status}: only paid orders not yet sent to the warehouse "
                "(pending review, split or dispatch) can be split or merged.",
                code="not_splittable",
                extra={"order": order.number, "status": order.status},
            )
    after_review_holds = list(
        Interception.objects.filter(order__in=orders, state=InterceptionState.OPEN, after_review=True).values_list(
            "order__number", "reason_code"
        )
    )
    if after_review_holds:
        raise Conflict(
            "Resolve the holds raised after review first: " + ", ".join(f"{n} ({c})" for n, c in after_review_holds),
            code="held_after_review",
        )


def _held_units(line_ids: Sequence[int]) -> dict[int, int]:
    """Line units a line holds at channel level (what intake reserved), capped by the line quantity."""
    rows = (
        Reservation.objects.filter(
            ref_type=REF_TYPE,
            ref_id__in=list(line_ids),
            scope=ReservationScope.CHANNEL,
            state=ReservationState.ACTIVE,
        )
        .values("ref_id", "sku_id")
        .annotate(q=Sum("quantity"))
    )
    per_line: dict[int, list[int]] = defaultdict(list)
    for r in rows:
        per_line[r["ref_id"]].append(r["q"])
    return {line_id: min(qs) for line_id, qs in per_line.items()}


@transaction.atomic(savepoint=False)
def replace_orders(
    *, parents: Sequence[Order], specs: Sequence[ChildSpec], kind: str, actor: Any, reason: str
) -> list[Order]:
    """Retire ``parents`` and create one order per spec, atomically. The caller holds the parents' locks
    and has checked the plan; money per line is already divided (the specs carry it)."""
    now = timezone.now()
    operation = uuid.uuid4()
    reviewed = all(p.reviewed_at is not None for p in parents)

    children: list[Order] = []
    for spec in specs:
        values = {name: getattr(spec.header_from, name) for name in HEADER_FIELDS}
        values.update(spec.overrides)
        order = Order(
            **values,
            number=order_number_new(order_type=spec.header_from.order_type, at=now),
            platform_order_id=None,
            platform_order_ids=spec.platform_order_ids,
            status=Status.PENDING_REVIEW.value,
            created_at=now,
            updated_at=now,
            has_unmapped_lines=any(cl.source.sku_id is None for cl in spec.lines),
            final_warehouse=None,
            courier=None,
        )
        if not reviewed:
            order.reviewed_at = None
        if "is_presale" not in spec.overrides:
            # A presale order is one holding presale goods: split off the in-stock lines and they ship now.
            order.is_presale = any(cl.source.is_presale for cl in spec.lines)
        order.goods_minor = sum(cl.amounts.gross_minor for cl in spec.lines)
        order.line_discount_minor = sum(cl.amounts.line_discount_minor for cl in spec.lines)
        order.order_discount_minor = sum(cl.amounts.order_discount_minor for cl in spec.lines)
        order.shipping_minor = sum(cl.amounts.shipping_minor for cl in spec.lines)
        order.payable_minor = sum(cl.amounts.paid_minor for cl in spec.lines)
        children.append(order)

    # What the buyer paid moves with the goods: received and refunded are divided by what each new
    # order is worth (S1), so the parents' sums and the children's sums are equal to the cent.
    weights = [c.payable_minor for c in children]
    for attr in ("received_minor", "refunded_minor"):
        for child, share in zip(children, apportion(sum(getattr(p, attr) for p in parents), weights), strict=True):
            setattr(child, attr, share)
    for child in children:
        child.payment_status = derive_payment_status(
            payable_minor=child.payable_minor,
            received_minor=child.received_minor,
            refunded_minor=child.refunded_minor,
        ).value
    for _attempt in range(3):
        try:
            with transaction.atomic():
                Order.objects.bulk_create(children)
            break
        except IntegrityError:
            for child in children:
                child.number = order_number_new(order_type=child.order_type, at=now)
    else:
        raise Conflict("Could not number the new orders; try again.", code="numbering")

    # The share of what the buyer paid (and was refunded) is carried to each new order as a bookkeeping
    # row, so later payments or refunds on it add to its own rows instead of starting from nothing.
    # Method "carried" is not cash: the cash stays on the original's rows.
    carried = [
        Payment(
            order=child,
            method=CARRIED_METHOD,
            transaction_id=f"{operation.hex}:{child.number}",
            kind=kind_,
            amount_minor=amount,
            currency=child.currency,
            paid_at=child.paid_at or now,
            raw={"carried_from": [p.number for p in parents]},
        )
        for child in children
        for kind_, amount in ((PaymentKind.PAYMENT, child.received_minor), (PaymentKind.REFUND, child.refunded_minor))
        if amount > 0
    ]
    Payment.objects.bulk_create(carried)

    new_lines: list[OrderLine] = []
    origins: list[tuple[OrderLine, list[tuple[OrderLine, int]]]] = []
    for child, spec in zip(children, specs, strict=True):
        for no, cl in enumerate(spec.lines, start=1):
            src = cl.source
            line = OrderLine(
                order=child,
                line_no=no,
                sku_id=src.sku_id,
                platform_sku_code=src.platform_sku_code,
                platform_line_id=src.platform_line_id,
                name=src.name,
                quantity=cl.amounts.quantity,
                unit_price_minor=cl.amounts.unit_price_minor,
                gross_minor=cl.amounts.gross_minor,
                line_discount_minor=cl.amounts.line_discount_minor,
                order_discount_minor=cl.amounts.order_discount_minor,
                shipping_minor=cl.amounts.shipping_minor,
                paid_minor=cl.amounts.paid_minor,
                promotions=cl.promotions,
                is_gift=src.is_gift,
                is_presale=src.is_presale,
                tax_rate_bp=src.tax_rate_bp,
            )
            new_lines.append(line)
            origins.append((line, cl.origins))
    OrderLine.objects.bulk_create(new_lines)
    LineOrigin.objects.bulk_create(
        [LineOrigin(line=line, source_line=src, quantity=q) for line, pairs in origins for src, q in pairs]
    )
    OrderPlatformRef.objects.bulk_create(
        [
            OrderPlatformRef(order=child, channel_id=child.channel_id, platform_order_id=pid)
            for child in children
            for pid in child.platform_order_ids
        ]
    )

    # Reservations move line to line in this transaction: no moment where another order could take
    # the units (S2). A line that was short passes on only what it holds; the rest is judged again.
    source_ids = [line.pk for p in parents for line in p.lines.all() if line.sku_id is not None]
    held = _held_units(source_ids)
    left = dict(held)
    allocations: list[ReservationAllocation] = []
    short_by_line: dict[int, int] = {}
    for line, pairs in origins:
        got = 0
        for src, q in pairs:
            if src.sku_id is None:
                continue
            take = min(q, left.get(src.pk, 0))
            if take:
                left[src.pk] -= take
                got += take
                allocations.append(
                    ReservationAllocation(from_ref_id=src.pk, to_ref_id=line.pk, sku_id=src.sku_id, quantity=take)
                )
        if line.sku_id is not None and got < line.quantity:
            short_by_line[line.pk] = line.quantity - got
    if source_ids:
        reservations_transfer(
            ref_type=REF_TYPE,
            from_ref_ids=source_ids,
            to_allocations=allocations,
            reason=f"{kind} {operation}",
        )
    if short_by_line:
        shorts = [line for line in new_lines if line.pk in short_by_line]
        for line in shorts:
            line.short_quantity = short_by_line[line.pk]
        OrderLine.objects.bulk_update(shorts, ["short_quantity"])
        Order.objects.filter(pk__in={line.order_id for line in shorts}).update(has_short_lines=True)

    # Retire the parents: their stockouts end (S3), their holds are void (the rules run again on the
    # children when the orders were not yet reviewed, S6), and they close with the reason.
    parent_ids = [p.pk for p in parents]
    stockouts_cancel(order_ids=parent_ids, reason=f"{kind}: replaced by new orders", actor=actor)
    Interception.objects.filter(order_id__in=parent_ids, state=InterceptionState.OPEN).update(
        state=InterceptionState.VOID,
        resolved_at=now,
        resolved_by=actor_or_none(actor),
        resolution_note=f"{kind}: order retired",
    )
    numbers = ", ".join(c.number for c in children)
    for parent in parents:
        order_transition(
            order=parent,
            to_status=Status.CLOSED.value,
            actor=actor,
            reason=f"{LineageKind(kind).label}: → {numbers}. {reason}".strip(),
            data={"kind": kind, "operation": str(operation), "children": [c.number for c in children]},
        )
    OrderLineage.objects.bulk_create(
        [
            OrderLineage(
                operation=operation,
                kind=kind,
                parent=p,
                child=c,
                at=now,
                actor=actor_or_none(actor),
                actor_name=actor_name(actor),
                reason=reason[:300],
            )
            for p in parents
            for c in children
        ]
    )
    parent_numbers = [p.number for p in parents]
    OrderEvent.objects.bulk_create(
        [
            order_event_build(
                order=c,
                kind=f"{kind}_created",
                actor=actor,
                to_status=c.status,
                reason=reason,
                data={"from": parent_numbers, "operation": str(operation)},
            )
            for c in children
        ]
    )
    for c in children:
        audit_record(
            actor=actor,
            action=f"order.{kind}",
            obj=c,
            reason=reason,
            after={"from": parent_numbers, "payable_minor": c.payable_minor, "received_minor": c.received_minor},
        )
    return children
