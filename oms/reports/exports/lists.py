"""What each console list exports: its filters (parsed from the list's own query string), its columns (header
label + how to read the cell) and its rows, streamed in pages from one ordered query.

A list is registered once in ``EXPORTS``; the console's export buttons, the background job and the tests all
go through it. Headers are translatable labels, rendered in the job's language (Chinese by default)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from oms.core.domain.money import format_minor
from oms.orders.domain.payments import PAYMENT_STATUS_LABELS, PaymentStatus
from oms.orders.domain.status import STATUS_LABELS, Status
from oms.orders.models import OrderLine, Payment
from oms.orders.selectors import order_queryset
from oms.reports.exports.filters import day_start, operation_log_filters_parse, order_filters_parse, parse_date

CHUNK = 2_000


@dataclass(frozen=True)
class Column:
    label: str | Promise
    read: Callable[[dict[str, Any]], Any]


@dataclass(frozen=True)
class ListExport:
    name: str
    label: str | Promise
    perm: str  # what the operator needs to export it (the list's own view permission)
    fields: tuple[str, ...]  # what one row reads (values() names)
    columns: tuple[Column, ...]
    queryset: Callable[[Mapping[str, str]], QuerySet[Any]]

    def rows(self, params: Mapping[str, str]) -> Iterator[list[Any]]:
        """Every row of the list under ``params``, one page of CHUNK from the database at a time."""
        for values in self.queryset(params).values(*self.fields).iterator(chunk_size=CHUNK):
            yield [column.read(values) for column in self.columns]

    def count(self, params: Mapping[str, str]) -> int:
        return self.queryset(params).count()


def _local(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _money(field: str) -> Callable[[dict[str, Any]], Decimal]:
    return lambda v: _dec(v[field], v["currency"])


def _dec(minor: int, currency: str) -> Decimal:
    """An amount as a number (a spreadsheet sums it), exact to the minor unit."""
    return Decimal(format_minor(minor, currency))


def _field(name: str) -> Callable[[dict[str, Any]], Any]:
    return lambda v: v[name]


def _status(v: dict[str, Any]) -> str:
    return STATUS_LABELS[Status(v["status"])][0]


def _orders(params: Mapping[str, str]) -> QuerySet[Any]:
    return order_queryset(filters=order_filters_parse(params)).order_by("-created_at", "-id")


ORDERS = ListExport(
    name="orders",
    label=_("Orders"),
    perm="orders.view_order",
    fields=(
        "number",
        "channel__name",
        "platform_order_id",
        "order_type",
        "status",
        "payment_status",
        "receiver_name",
        "receiver_phone",
        "receiver_province",
        "receiver_city",
        "receiver_address",
        "currency",
        "goods_minor",
        "line_discount_minor",
        "order_discount_minor",
        "shipping_minor",
        "payable_minor",
        "received_minor",
        "refunded_minor",
        "placed_at",
        "paid_at",
        "created_at",
        "tracking_number",
        "buyer_remark",
        "seller_remark",
    ),
    columns=(
        Column(_("Order no."), _field("number")),
        Column(_("Channel"), _field("channel__name")),
        Column(_("Platform order no."), lambda v: v["platform_order_id"] or ""),
        Column(_("Type"), _field("order_type")),
        Column(_("Status"), _status),
        Column(_("Payment"), lambda v: PAYMENT_STATUS_LABELS[PaymentStatus(v["payment_status"])][0]),
        Column(_("Receiver"), _field("receiver_name")),
        Column(_("Receiver phone"), _field("receiver_phone")),
        Column(_("Province"), _field("receiver_province")),
        Column(_("City"), _field("receiver_city")),
        Column(_("Address"), _field("receiver_address")),
        Column(_("Currency"), _field("currency")),
        Column(_("Goods"), _money("goods_minor")),
        Column(_("Item discounts"), _money("line_discount_minor")),
        Column(_("Order discount"), _money("order_discount_minor")),
        Column(_("Shipping"), _money("shipping_minor")),
        Column(_("Payable"), _money("payable_minor")),
        Column(_("Received"), _money("received_minor")),
        Column(_("Refunded"), _money("refunded_minor")),
        Column(_("Placed at"), lambda v: _local(v["placed_at"])),
        Column(_("Paid at"), lambda v: _local(v["paid_at"])),
        Column(_("Created"), lambda v: _local(v["created_at"])),
        Column(_("Tracking number"), _field("tracking_number")),
        Column(_("Buyer remark"), _field("buyer_remark")),
        Column(_("Seller remark"), _field("seller_remark")),
    ),
    queryset=_orders,
)


def _order_lines(params: Mapping[str, str]) -> QuerySet[Any]:
    orders = order_queryset(filters=order_filters_parse(params)).values("pk")
    return OrderLine.objects.filter(order__in=orders).order_by("-order__created_at", "-order_id", "line_no")


ORDER_LINES = ListExport(
    name="order_lines",
    label=_("Order lines"),
    perm="orders.view_order",
    fields=(
        "order__number",
        "line_no",
        "sku__code",
        "platform_sku_code",
        "name",
        "quantity",
        "order__currency",
        "unit_price_minor",
        "gross_minor",
        "line_discount_minor",
        "order_discount_minor",
        "shipping_minor",
        "paid_minor",
        "short_quantity",
    ),
    columns=(
        Column(_("Order no."), _field("order__number")),
        Column(_("Line"), _field("line_no")),
        Column(_("SKU"), lambda v: v["sku__code"] or ""),
        Column(_("Platform SKU"), _field("platform_sku_code")),
        Column(_("Name"), _field("name")),
        Column(_("Quantity"), _field("quantity")),
        Column(_("Unit price"), lambda v: _dec(v["unit_price_minor"], v["order__currency"])),
        Column(_("Gross"), lambda v: _dec(v["gross_minor"], v["order__currency"])),
        Column(_("Item discount"), lambda v: _dec(v["line_discount_minor"], v["order__currency"])),
        Column(_("Order discount share"), lambda v: _dec(v["order_discount_minor"], v["order__currency"])),
        Column(_("Shipping share"), lambda v: _dec(v["shipping_minor"], v["order__currency"])),
        Column(_("Paid"), lambda v: _dec(v["paid_minor"], v["order__currency"])),
        Column(_("Short"), _field("short_quantity")),
    ),
    queryset=_order_lines,
)


def _payments(params: Mapping[str, str]) -> QuerySet[Any]:
    qs = Payment.objects.all()
    day_from, day_to = parse_date(params, "from"), parse_date(params, "to")
    if day_from:
        qs = qs.filter(paid_at__gte=day_start(day_from))
    if day_to:
        qs = qs.filter(paid_at__lt=day_start(day_to + timedelta(days=1)))
    if params.get("channel"):
        qs = qs.filter(order__channel__code=params["channel"])
    if params.get("method"):
        qs = qs.filter(method=params["method"])
    if params.get("kind"):
        qs = qs.filter(kind=params["kind"])
    return qs.order_by("-paid_at", "-id")


PAYMENTS = ListExport(
    name="payments",
    label=_("Payments"),
    perm="orders.view_payment",
    fields=(
        "order__number",
        "method",
        "transaction_id",
        "kind",
        "currency",
        "amount_minor",
        "refund_due_minor",
        "paid_at",
        "received_at",
    ),
    columns=(
        Column(_("Order no."), _field("order__number")),
        Column(_("Method"), _field("method")),
        Column(_("Transaction id"), _field("transaction_id")),
        Column(_("Kind"), _field("kind")),
        Column(_("Currency"), _field("currency")),
        Column(_("Amount"), _money("amount_minor")),
        Column(_("Refund due"), _money("refund_due_minor")),
        Column(_("Paid at"), lambda v: _local(v["paid_at"])),
        Column(_("Received at"), lambda v: _local(v["received_at"])),
    ),
    queryset=_payments,
)


def _operation_log(params: Mapping[str, str]) -> QuerySet[Any]:
    from oms.reports.oplog import operation_log_queryset

    return operation_log_queryset(filters=operation_log_filters_parse(params))


OPERATION_LOG = ListExport(
    name="operation_log",
    label=_("Operation log"),
    perm="audit.view_operationlog",
    fields=("at", "actor_name", "action", "object_type", "object_id", "object_repr", "reason", "via", "request_id"),
    columns=(
        Column(_("Time"), lambda v: _local(v["at"])),
        Column(_("Operator"), lambda v: v["actor_name"] or "system"),
        Column(_("Action"), _field("action")),
        Column(_("Object type"), _field("object_type")),
        Column(_("Object id"), _field("object_id")),
        Column(_("Object"), _field("object_repr")),
        Column(_("Reason"), _field("reason")),
        Column(_("Via"), _field("via")),
        Column(_("Request id"), _field("request_id")),
    ),
    queryset=_operation_log,
)

EXPORTS: dict[str, ListExport] = {e.name: e for e in (ORDERS, ORDER_LINES, PAYMENTS, OPERATION_LOG)}
