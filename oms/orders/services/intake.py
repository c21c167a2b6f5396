"""Intake, second half: persist prepared orders exactly once, in bulk.

The steps of `_persist`: build each order (`_order_build`), its payment (`_payment_build`) and its
lines (`_new_lines`, made into rows by `orders.services.rows`), insert them, record the timeline and
operation log (`_created_record`), then reserve stock (`_reserve`).

`order_intake` (one order) and `order_intake_bulk` (up to BULK_INTAKE_MAX) share one path. For
a batch, every insert is one statement per table (orders, lines, platform refs, payments, events),
plus one operation-log row per order and one stock call for all lines. Idempotency rests on the
unique (channel, platform order id) key: a concurrent duplicate loses the insert race, and the
batch is retried once, when it finds the winner and answers as a replay.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from oms.audit.services import audit_record_many
from oms.channels.models import Classification, Platform
from oms.core.actors import Actor
from oms.core.db_retry import deadlocked, retry
from oms.core.errors import ApplicationError, Conflict
from oms.orders import actions
from oms.orders.domain.intake import snapshot_diff
from oms.orders.domain.payments import PaymentStatus, derive_payment_status
from oms.orders.domain.split import LineAmounts
from oms.orders.domain.status import Status
from oms.orders.models import Customer, Order, OrderEvent, OrderLine, Payment
from oms.orders.selectors import order_living_successors
from oms.orders.services.intake_lookups import LOOKUPS
from oms.orders.services.intake_pg import Written, audit_row, one_trip_ready, order_write_one_trip
from oms.orders.services.intake_prepare import Prepared, Refused, intake_prepare
from oms.orders.services.numbers import order_number_new
from oms.orders.services.promotions import line_promotion_shares, order_promotions_record
from oms.orders.services.rows import (
    NewLine,
    order_lines_build,
    order_lines_insert,
    order_platform_refs_insert,
    orders_insert,
    payments_insert,
    receiver_columns,
)
from oms.orders.services.stock_link import REF_TYPE, order_lines_reserve
from oms.orders.services.timeline import order_event_build, order_events_save
from oms.orders.services.updates import order_lines_mark_short

# Platforms sell first and tell us after: their orders are never refused for stock.
_REFUSABLE_PLATFORMS = {Platform.STORE, Platform.DISTRIBUTOR, Platform.MANUAL}


@dataclass
class IntakeOutcome:
    """One result per submitted order: the order (new or replayed) or the error that refused it."""

    index: int
    order: Order | None = None
    created: bool = False
    error: ApplicationError | None = None
    # A replay of a platform order that a split or merge replaced: the living orders that now stand for it.
    successors: list[Order] = field(default_factory=list)
    # An order of type return became an after-sales case on its original (``order``): the case's number.
    return_case: str = ""


class ReturnIntake(Protocol):
    """After-sales takes an order of type return in as a return case on its original order, found by its
    platform order id (the outcome names both), or refuses it with the field that failed. Each runs in its own
    transaction. Registered in `oms.wiring`; with none, a return is refused (``return_not_outbound``)."""

    def __call__(self, *, index: int, payload: Mapping[str, Any], actor: Actor) -> IntakeOutcome: ...


RETURN_INTAKE: list[ReturnIntake] = []


def _replay(p: Prepared, existing: Order) -> IntakeOutcome:
    if existing.intake_fingerprint == p.fingerprint:
        return IntakeOutcome(p.index, order=existing, created=False)
    differences = snapshot_diff(existing.intake_snapshot or {}, p.snapshot)
    return IntakeOutcome(
        p.index,
        error=Conflict(
            f"Platform order {p.command.platform_order_id} of channel {p.channel.code} was already taken in as "
            f"{existing.number} with different content ({len(differences)} difference(s)).",
            code="platform_order_conflict",
            extra={"order_number": existing.number, "differences": differences},
        ),
    )


def _customer_build(p: Prepared) -> Customer | None:
    """The buyer as a new row would hold it (an existing buyer's row is kept as it is)."""
    buyer = p.command.buyer
    if buyer is None:
        return None
    return Customer(
        channel=p.channel,
        platform_buyer_id=buyer.platform_buyer_id,
        nickname=buyer.nickname,
        name=buyer.name,
        phone=buyer.phone,
        email=buyer.email,
    )


def _customers_for(prepared: list[Prepared]) -> dict[tuple[int, str], Customer]:
    """Find or create the buyers of a batch: one select, one insert for the new ones, one re-select."""
    wanted: dict[tuple[int, str], Customer] = {}
    for p in prepared:
        customer = _customer_build(p)
        if customer is not None:
            wanted.setdefault((p.channel.pk, customer.platform_buyer_id), customer)
    if not wanted:
        return {}

    def select() -> dict[tuple[int, str], Customer]:
        rows = Customer.objects.filter(
            channel_id__in={k[0] for k in wanted}, platform_buyer_id__in={k[1] for k in wanted}
        )
        return {(c.channel_id, c.platform_buyer_id): c for c in rows if (c.channel_id, c.platform_buyer_id) in wanted}

    found = select()
    missing = [c for key, c in sorted(wanted.items()) if key not in found]
    if missing:
        # Another intake may create the same buyer at the same moment: ignore the clash, then re-read.
        Customer.objects.bulk_create(missing, ignore_conflicts=True)
        found = select()
    return found


def _initial_status(p: Prepared, received: int) -> Status:
    if p.command.is_cod or received >= p.money.payable_minor:
        return Status.PENDING_REVIEW
    return Status.PENDING_PAYMENT


def _received(p: Prepared) -> int:
    pay = p.command.payment
    if pay is None:
        return 0
    return pay.amount_minor if pay.amount_minor is not None else p.money.payable_minor


def _order_build(p: Prepared, customers: dict[tuple[int, str], Customer], now: datetime) -> Order:
    """The unsaved order of one prepared platform order: header, money, status from what was paid."""
    cmd = p.command
    received = _received(p)
    buyer = cmd.buyer
    return Order(
        number=order_number_new(order_type=cmd.order_type, at=p.placed_at),
        channel=p.channel,
        platform_order_id=cmd.platform_order_id,
        platform_order_ids=[cmd.platform_order_id],
        order_type=cmd.order_type,
        classification=p.channel.classification or Classification.ONLINE,
        status=_initial_status(p, received).value,
        payment_status=derive_payment_status(
            payable_minor=p.money.payable_minor, received_minor=received, refunded_minor=0
        ).value,
        customer=customers.get((p.channel.pk, buyer.platform_buyer_id)) if buyer else None,
        **receiver_columns(cmd.receiver),
        buyer_remark=cmd.buyer_remark,
        seller_remark=cmd.seller_remark,
        invoice_kind=cmd.invoice.kind,
        invoice_title=cmd.invoice.title,
        invoice_tax_id=cmd.invoice.tax_id,
        invoice_email=cmd.invoice.email,
        invoice_type=cmd.invoice.type,
        invoice_mobile=cmd.invoice.mobile,
        invoice_address=cmd.invoice.address,
        invoice_phone=cmd.invoice.phone,
        invoice_bank=cmd.invoice.bank,
        invoice_account=cmd.invoice.account,
        # A presale order is one with a presale line; a line says so, or follows the order's flag.
        is_presale=any(cmd.is_presale if ln.is_presale is None else ln.is_presale for ln in cmd.lines),
        is_cod=cmd.is_cod,
        currency=cmd.currency,
        goods_minor=p.money.goods_minor,
        line_discount_minor=p.money.line_discount_minor,
        order_discount_minor=p.money.order_discount_minor,
        shipping_minor=p.money.shipping_minor,
        payable_minor=p.money.payable_minor,
        received_minor=received,
        placed_at=p.placed_at,
        paid_at=None,
        created_at=now,
        updated_at=now,
        has_unmapped_lines=any(s is None for s in p.skus),
        intake_fingerprint=p.fingerprint,
        intake_snapshot=p.snapshot,
        promotions=order_promotions_record(p),
        has_platform_mismatch=any(
            ln.platform_paid_minor is not None and ln.platform_paid_minor != m.paid_minor
            for ln, m in zip(cmd.lines, p.money.lines, strict=True)
        ),
    )


def _payment_build(p: Prepared, order: Order, now: datetime) -> Payment | None:
    """The payment the platform reported with the order, if any money came in; a fully paid order is
    paid when that payment was."""
    pay = p.command.payment
    if pay is None or order.received_minor <= 0:
        return None
    paid_at = pay.paid_at or p.placed_at
    if not timezone.is_aware(paid_at):
        paid_at = timezone.make_aware(paid_at)
    if order.payment_status == PaymentStatus.PAID.value:
        order.paid_at = paid_at
    return Payment(
        order=order,
        method=pay.method,
        transaction_id=pay.transaction_id or f"{p.channel.code}:{p.command.platform_order_id}",
        amount_minor=order.received_minor,
        currency=p.command.currency,
        paid_at=paid_at,
        received_at=now,
    )


def _new_lines(p: Prepared) -> list[NewLine]:
    """The lines of one prepared order with their planned money; names and flags fall back on the SKU."""
    cmd = p.command
    return [
        NewLine(
            amounts=LineAmounts(
                quantity=ln.quantity,
                unit_price_minor=ln.unit_price_minor,
                gross_minor=money.gross_minor,
                line_discount_minor=money.line_discount_minor,
                order_discount_minor=money.order_discount_minor,
                shipping_minor=money.shipping_minor,
                paid_minor=money.paid_minor,
            ),
            sku_id=sku.pk if sku else None,
            sku=sku,
            platform_sku_code=ln.platform_sku_code,
            platform_line_id=ln.platform_line_id,
            name=ln.name or (sku.name if sku else ""),
            promotions=[
                {"code": pr.code, "name": pr.name, "kind": pr.kind, "amount_minor": pr.amount_minor}
                for pr in ln.promotions
            ]
            + line_promotion_shares(p, position),
            is_gift=ln.is_gift or bool(sku and sku.is_gift),
            is_presale=cmd.is_presale if ln.is_presale is None else ln.is_presale,
            tax_rate_bp=sku.tax_rate_bp if sku else 0,
            platform_paid_minor=ln.platform_paid_minor,
        )
        for position, (ln, money, sku) in enumerate(zip(cmd.lines, p.money.lines, p.skus, strict=True))
    ]


def _created_events(order: Order, *, actor: Actor) -> list[OrderEvent]:
    """The timeline of a new order: created, then its first status."""
    return [
        order_event_build(order=order, kind="created", actor=actor, to_status=Status.NEW.value),
        order_event_build(
            order=order,
            kind="status_changed",
            actor=actor,
            from_status=Status.NEW.value,
            to_status=order.status,
            reason="intake",
        ),
    ]


def _created_after(order: Order) -> dict[str, Any]:
    """What the operation-log row of a new order records."""
    return {"status": order.status, "payable": order.payable_minor, "platform_order_id": order.platform_order_id}


def _created_record(orders: Sequence[Order], *, actor: Actor) -> None:
    """Timeline and one operation-log row per new order."""
    order_events_save([event for order in orders for event in _created_events(order, actor=actor)])
    audit_record_many(
        actor=actor,
        action=actions.ORDER_INTAKE,
        entries=[(order, None, _created_after(order), "") for order in orders],
    )


def _persist(prepared: list[Prepared], *, actor: Actor, refuse_when_short: bool) -> list[IntakeOutcome]:
    """Insert the batch, one statement per table. Runs inside the caller's transaction; raises
    IntegrityError on a lost race."""
    customers = _customers_for(prepared)
    now = timezone.now()
    orders = [_order_build(p, customers, now) for p in prepared]
    payments = [pay for p, o in zip(prepared, orders, strict=True) if (pay := _payment_build(p, o, now)) is not None]
    orders_insert(orders)
    lines = [
        line
        for p, order in zip(prepared, orders, strict=True)
        for line in order_lines_build(order=order, lines=_new_lines(p))
    ]
    order_lines_insert(lines)
    order_platform_refs_insert(orders)
    payments_insert(payments)
    _created_record(orders, actor=actor)
    # Reserve last: from here to COMMIT the channel-stock rows stay locked (a best seller's row is what
    # concurrent intakes queue on), so only the rare shortage bookkeeping may follow.
    _reserve(orders, lines, refuse_when_short=refuse_when_short)
    return [IntakeOutcome(p.index, order=o, created=True) for p, o in zip(prepared, orders, strict=True)]


def _reserve(orders: list[Order], lines: list[OrderLine], *, refuse_when_short: bool) -> None:
    shortages = order_lines_reserve(
        lines=lines, channel_ids={o.pk: o.channel_id for o in orders}, refuse_when_short=refuse_when_short
    )
    if not shortages:
        return
    short_orders = order_lines_mark_short(lines=lines, short_by_line={s.line_id: s.short for s in shortages})
    for order in orders:
        if order.pk in short_orders:
            order.has_short_lines = True


def _refusable(p: Prepared, refuse_when_short: bool) -> bool:
    return refuse_when_short and p.channel.platform in _REFUSABLE_PLATFORMS


def _intake_once(payloads: Sequence[Any], *, actor: Actor, refuse_when_short: bool) -> list[IntakeOutcome]:
    results: dict[int, IntakeOutcome] = {}
    fresh: list[Prepared] = []
    repeats: list[tuple[Prepared, Prepared]] = []  # the same platform order twice in one batch
    first_in_batch: dict[tuple[int, str], Prepared] = {}
    for item in intake_prepare(payloads=payloads):
        if isinstance(item, Refused):
            results[item.index] = IntakeOutcome(item.index, error=item.as_error())
        elif item.existing is not None:
            results[item.index] = _replay(item, item.existing)
        else:
            key = (item.channel.pk, item.command.platform_order_id)
            if key in first_in_batch:
                repeats.append((item, first_in_batch[key]))
            else:
                first_in_batch[key] = item
                fresh.append(item)
    # The same key order in every batch: overlapping concurrent batches then queue instead of deadlocking.
    fresh.sort(key=lambda p: (p.command.platform_order_id, p.channel.pk))
    bulk = [p for p in fresh if not _refusable(p, refuse_when_short)]
    one_by_one = [p for p in fresh if _refusable(p, refuse_when_short)]
    with transaction.atomic():
        if bulk:
            for outcome in _persist(bulk, actor=actor, refuse_when_short=False):
                results[outcome.index] = outcome
        for p in one_by_one:
            try:
                with transaction.atomic():
                    (outcome,) = _persist([p], actor=actor, refuse_when_short=True)
            except Conflict as exc:  # refused for stock: nothing of this order stays written
                outcome = IntakeOutcome(p.index, error=exc)
            results[outcome.index] = outcome
    for item, first in repeats:
        saved = results[first.index]
        results[item.index] = (
            _replay(item, saved.order) if saved.order is not None else IntakeOutcome(item.index, error=saved.error)
        )
    outcomes = [results[i] for i in range(len(payloads))]
    _attach_successors(outcomes)
    return outcomes


def _attach_successors(outcomes: list[IntakeOutcome]) -> None:
    """Replays of platform orders whose order was replaced (closed by a split or merge) name the living
    orders instead (a replay with other content: beside the original, as ``living_orders``); no query
    unless a replayed order is closed or conflicts."""
    closed = {
        o.order.pk for o in outcomes if o.order is not None and not o.created and o.order.status == Status.CLOSED.value
    }
    conflicts = [o.error for o in outcomes if o.error is not None and o.error.code == "platform_order_conflict"]
    conflicting: dict[str, int] = {}
    if conflicts:
        numbers = {str(e.extra.get("order_number", "")) for e in conflicts}
        conflicting = dict(
            Order.objects.filter(number__in=numbers, status=Status.CLOSED.value).values_list("number", "pk")
        )
    if not closed and not conflicting:
        return
    living = order_living_successors(order_ids=sorted(closed | set(conflicting.values())))
    for o in outcomes:
        if o.order is not None and not o.created and o.order.pk in living:
            o.successors = living[o.order.pk]
    for e in conflicts:
        pk = conflicting.get(str(e.extra.get("order_number", "")))
        if pk in living:
            e.extra["living_orders"] = [s.number for s in living[pk]]


BATCH_ATTEMPTS = 3
SINGLE_ATTEMPTS = 3


def lost_race(exc: BaseException) -> bool:
    """A lost race: a unique key taken by a concurrent intake (on PostgreSQL reported only once the winner
    has committed, so a retry finds it as a replay), or a deadlock the database resolved by rolling us back."""
    return isinstance(exc, IntegrityError) or deadlocked(exc)


def order_intake_bulk(*, payloads: Sequence[Any], actor: Actor, refuse_when_short: bool = False) -> list[IntakeOutcome]:
    """Take in many orders; one outcome per payload. A bad order never blocks the good ones. An order of type
    return is never an outbound order: it goes to after-sales (``RETURN_INTAKE``) as a case on its original."""
    returns = {i for i, p in enumerate(payloads) if isinstance(p, Mapping) and p.get("type") == "return"}
    if not returns or not RETURN_INTAKE:
        return _intake_outbound(payloads, actor=actor, refuse_when_short=refuse_when_short)
    others = [i for i in range(len(payloads)) if i not in returns]
    out = {i: RETURN_INTAKE[0](index=i, payload=payloads[i], actor=actor) for i in sorted(returns)}
    outbound = (
        _intake_outbound([payloads[i] for i in others], actor=actor, refuse_when_short=refuse_when_short)
        if others
        else []
    )
    for i, outcome in zip(others, outbound, strict=True):
        outcome.index = i
        out[i] = outcome
    return [out[i] for i in range(len(payloads))]


def _intake_outbound(payloads: Sequence[Any], *, actor: Actor, refuse_when_short: bool) -> list[IntakeOutcome]:
    """Outbound orders (every type but return) in one batch: see ``order_intake_bulk``.

    A lost race with a concurrent intake of the same platform order (or a number clash) rolls the
    batch back; it is retried, and then finds the winner as a replay. If concurrent batches keep
    overlapping, orders are taken one at a time (each retried the same way), so a persistent failure is
    pinned to the order that causes it.
    """
    try:
        return retry(
            lambda: _intake_once(payloads, actor=actor, refuse_when_short=refuse_when_short),
            attempts=BATCH_ATTEMPTS,
            when=lost_race,
        )
    except DatabaseError as exc:
        if not lost_race(exc):
            raise
    return [
        _intake_single(index, payload, actor=actor, refuse_when_short=refuse_when_short)
        for index, payload in enumerate(payloads)
    ]


def _intake_single(index: int, payload: Any, *, actor: Actor, refuse_when_short: bool) -> IntakeOutcome:
    try:
        (single,) = retry(
            lambda: _intake_once([payload], actor=actor, refuse_when_short=refuse_when_short),
            attempts=SINGLE_ATTEMPTS,
            when=lost_race,
        )
    except DatabaseError as exc:
        if not lost_race(exc):
            raise
        return IntakeOutcome(index, error=Conflict(f"The order could not be saved: {exc}", code="intake_conflict"))
    single.index = index
    return single


def order_intake(*, payload: Any, actor: Actor, refuse_when_short: bool = False) -> IntakeOutcome:
    """Take in one order; raises the error that refuses it (422 invalid, 409 conflicting replay or stock).

    On PostgreSQL a new order whose every line can be reserved in full is written in one round trip
    (`_intake_one_trip`); everything else — refusals, replays, short or bundled lines, a lost race — takes the
    general path, which decides it exactly as before."""
    outcome = _intake_one_trip(payload, actor=actor) if one_trip_ready() else None
    if outcome is None:
        (outcome,) = order_intake_bulk(payloads=[payload], actor=actor, refuse_when_short=refuse_when_short)
    if outcome.error is not None:
        raise outcome.error
    return outcome


def _intake_one_trip(payload: Any, *, actor: Actor) -> IntakeOutcome | None:
    """One new order in one round trip (`intake_pg`), its look-ups from the per-process cache; None when the
    general path must decide. The rows are the ones `_persist` writes, built by the same functions; whether the
    order is refusable does not matter here, as every line is reserved in full or the general path runs."""
    for _attempt in range(2):
        lookups = LOOKUPS.lookups([payload])
        (p,) = intake_prepare(payloads=[payload], lookups=lookups, find_existing=False)
        if isinstance(p, Refused) or any(sku is not None and sku.is_bundle for sku in p.skus):
            return None  # refusals are worded from fresh rows; bundles reserve their components
        now = timezone.now()
        order = _order_build(p, {}, now)
        payment = _payment_build(p, order, now)
        lines = order_lines_build(order=order, lines=_new_lines(p))
        written = order_write_one_trip(
            order=order,
            customer=_customer_build(p),
            lines=lines,
            payment=payment,
            events=_created_events(order, actor=actor),
            audit=audit_row(
                actor=actor,
                action=actions.ORDER_INTAKE,
                object_type=Order._meta.label_lower,
                object_repr=order.number,
                after=_created_after(order),
            ),
            versions=lookups.versions(
                channel=p.channel,
                skus=p.skus,
                mapped_codes=[ln.platform_sku_code for ln in p.command.lines if not ln.sku_code],
            ),
            ref_type=REF_TYPE,
        )
        if written is Written.DONE:
            return IntakeOutcome(0, order=order, created=True)
        if written is Written.GENERAL:
            return None
        LOOKUPS.clear()  # stale: prepare again from fresh rows
    return None
