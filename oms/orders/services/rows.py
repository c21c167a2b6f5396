"""The one writer of new order rows: orders, their lines, platform references and payments.

Intake builds orders from what a platform sent; split, merge and un-merge build orders that replace
others (and after-sales will build exchanges and reissues). Each builds its header its own way, then
hands the rows here: lines are made from `NewLine` (money already divided, see `orders.domain.split`),
totals are always the sums of the lines, and every insert is one statement per table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from oms.catalog.models import Sku
from oms.core.db_retry import retry
from oms.core.errors import Conflict
from oms.orders.domain.payments import CARRIED_METHOD, derive_payment_status
from oms.orders.domain.split import CarriedMoney, LineAmounts, sum_amounts
from oms.orders.domain.status import Status
from oms.orders.models import INVOICE_FIELDS, RECEIVER_FIELDS, Order, OrderLine, OrderPlatformRef, Payment, PaymentKind
from oms.orders.services.numbers import order_number_new

# What an order replacing others (split, merge, un-merge) copies from the order it stands in for.
REPLACEMENT_HEADER_FIELDS = (
    "channel_id",
    "order_type",
    "classification",
    "customer_id",
    *RECEIVER_FIELDS,
    "buyer_remark",
    "seller_remark",
    *INVOICE_FIELDS,
    "is_presale",
    "is_cod",
    "currency",
    "placed_at",
    "paid_at",
    "reviewed_at",
    "warehouse_id",
)
NUMBERING_ATTEMPTS = 3


@dataclass(frozen=True)
class NewLine:
    """One line of a new order: what it sells and its money (already divided and reconciled)."""

    amounts: LineAmounts
    sku_id: int | None
    platform_sku_code: str
    platform_line_id: str
    name: str
    promotions: list[dict[str, object]]
    is_gift: bool
    is_presale: bool
    tax_rate_bp: int
    sku: Sku | None = None  # the SKU itself when the caller has it loaded (later reads need no query)
    platform_paid_minor: int | None = None  # the platform's own figure of what the line was paid, when it sends one


def receiver_columns(receiver: Any) -> dict[str, str]:
    """The order's receiver columns from anything with name, phone, province, … attributes."""
    return {name: getattr(receiver, name.removeprefix("receiver_")) for name in RECEIVER_FIELDS}


def order_totals_set(order: Order, amounts: Sequence[LineAmounts]) -> None:
    """An order's money columns are the sums of its lines', always."""
    for name, value in sum_amounts(amounts).items():
        setattr(order, name, value)


def order_payment_status_set(order: Order) -> None:
    order.payment_status = derive_payment_status(
        payable_minor=order.payable_minor, received_minor=order.received_minor, refunded_minor=order.refunded_minor
    ).value


def replacement_order_build(
    *,
    header_from: Order,
    overrides: Mapping[str, Any],
    lines: Sequence[NewLine],
    platform_order_ids: list[str],
    reviewed: bool,
    at: datetime,
) -> Order:
    """An unsaved order standing in for ``header_from`` (and any others it replaces): its header copied,
    then ``overrides``; new number, pending review, no warehouse decision yet; totals from ``lines``."""
    values = {name: getattr(header_from, name) for name in REPLACEMENT_HEADER_FIELDS}
    values.update(overrides)
    order = Order(
        **values,
        number=order_number_new(order_type=header_from.order_type, at=at),
        platform_order_id=None,
        platform_order_ids=platform_order_ids,
        status=Status.PENDING_REVIEW.value,
        created_at=at,
        updated_at=at,
        has_unmapped_lines=any(line.sku_id is None for line in lines),
        final_warehouse=None,
        courier=None,
    )
    if not reviewed:
        order.reviewed_at = None
    if "is_presale" not in overrides:
        # A presale order is one holding presale goods: split off the in-stock lines and they ship now.
        order.is_presale = any(line.is_presale for line in lines)
    order_totals_set(order, [line.amounts for line in lines])
    return order


def _sku_of(line: NewLine) -> dict[str, Any]:
    return {"sku": line.sku} if line.sku is not None else {"sku_id": line.sku_id}


def order_lines_build(*, order: Order, lines: Sequence[NewLine]) -> list[OrderLine]:
    """Unsaved line rows of ``order``, numbered from 1 in the given order."""
    return [
        OrderLine(
            order=order,
            line_no=no,
            **_sku_of(line),
            platform_sku_code=line.platform_sku_code,
            platform_line_id=line.platform_line_id,
            name=line.name,
            quantity=line.amounts.quantity,
            unit_price_minor=line.amounts.unit_price_minor,
            gross_minor=line.amounts.gross_minor,
            line_discount_minor=line.amounts.line_discount_minor,
            order_discount_minor=line.amounts.order_discount_minor,
            shipping_minor=line.amounts.shipping_minor,
            paid_minor=line.amounts.paid_minor,
            promotions=line.promotions,
            is_gift=line.is_gift,
            is_presale=line.is_presale,
            tax_rate_bp=line.tax_rate_bp,
            platform_paid_minor=line.platform_paid_minor,
        )
        for no, line in enumerate(lines, start=1)
    ]


def orders_insert(orders: Sequence[Order]) -> None:
    """Insert new orders in one statement. A number clash (or a platform order taken concurrently)
    raises IntegrityError: the caller re-runs its whole transaction (intake does)."""
    Order.objects.bulk_create(orders)


def orders_insert_renumbering(orders: Sequence[Order], *, at: datetime) -> None:
    """Insert new orders, drawing new numbers on a clash (in a savepoint, a few times)."""

    def insert() -> None:
        with transaction.atomic():
            Order.objects.bulk_create(orders)

    def renumber(_attempt: int, _exc: BaseException) -> None:
        for order in orders:
            order.number = order_number_new(order_type=order.order_type, at=at)

    try:
        retry(insert, attempts=NUMBERING_ATTEMPTS, when=_clash, before_retry=renumber)
    except IntegrityError:
        raise Conflict("Could not number the new orders; try again.", code="numbering") from None


def _clash(exc: BaseException) -> bool:
    return isinstance(exc, IntegrityError)


def order_lines_insert(lines: Sequence[OrderLine]) -> None:
    OrderLine.objects.bulk_create(lines)


def order_platform_refs_insert(orders: Iterable[Order]) -> None:
    """One lookup row per platform order id each order answers for."""
    OrderPlatformRef.objects.bulk_create(
        [
            OrderPlatformRef(order=order, channel_id=order.channel_id, platform_order_id=pid)
            for order in orders
            for pid in order.platform_order_ids
        ]
    )


def payments_insert(payments: Sequence[Payment]) -> None:
    if payments:
        Payment.objects.bulk_create(payments)


def orders_carried_money_set(orders: Sequence[Order], carried: Sequence[CarriedMoney]) -> None:
    """What each unsaved replacing order received and was refunded: its share of the orders it replaces
    (`orders.domain.split.carried_money`), and the payment status that follows."""
    for order, money in zip(orders, carried, strict=True):
        order.received_minor = money.received_minor
        order.refunded_minor = money.refunded_minor
        order_payment_status_set(order)


def payments_carried_insert(*, orders: Sequence[Order], from_numbers: list[str], operation: str, at: datetime) -> None:
    """The share carried to each saved replacing order, recorded as bookkeeping rows, so later payments
    or refunds on it add to its own rows instead of starting from nothing. Method "carried" is not
    cash: the cash stays on the original's rows."""
    payments_insert(
        [
            Payment(
                order=order,
                method=CARRIED_METHOD,
                transaction_id=f"{operation}:{order.number}",
                kind=kind,
                amount_minor=amount,
                currency=order.currency,
                paid_at=order.paid_at or at,
                raw={"carried_from": from_numbers},
            )
            for order in orders
            for kind, amount in (
                (PaymentKind.PAYMENT, order.received_minor),
                (PaymentKind.REFUND, order.refunded_minor),
            )
            if amount > 0
        ]
    )
